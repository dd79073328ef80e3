//! The HTTP client tests use: bounded in time, so no request can hang a test.

use crate::WAIT;

/// A client whose every request fails after [`WAIT`].
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(WAIT)
        .build()
        .expect("a plain HTTP client builds")
}

/// GETs `url` and gives the answer's body as text (panics on a failed request).
pub async fn get_text(url: &str) -> String {
    client()
        .get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .text()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
}
