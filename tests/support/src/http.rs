//! The HTTP client tests use: bounded in time, so no request can hang a test.

use crate::WAIT;

/// A client whose every request fails after [`WAIT`].
pub fn client() -> reqwest::Client {
    install_crypto_provider();
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

/// Makes ring the process's rustls provider, as every Inlet binary does
/// (`inlet_common::crypto`): with the CLI in the build, reqwest has rustls
/// without a provider of its own, and a client built without one panics.
/// Call it before building any reqwest client of your own.
pub fn install_crypto_provider() {
    // Err only means one is installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
