//! The HTTP client tests use: bounded in time, so no request can hang a test.

use crate::WAIT;

/// A client whose every request fails after [`WAIT`].
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(WAIT)
        .build()
        .expect("a plain HTTP client builds")
}
