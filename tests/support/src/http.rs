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

/// A client that sends the test admin token with every request.
pub fn admin_client() -> reqwest::Client {
    install_crypto_provider();
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        crate::access::admin_bearer()
            .parse()
            .expect("a header value"),
    );
    reqwest::Client::builder()
        .timeout(WAIT)
        .default_headers(headers)
        .build()
        .expect("a plain HTTP client builds")
}

/// GETs `url` with the test admin token and gives the answer's body as
/// text (panics on a failed request).
pub async fn get_text_as_admin(url: &str) -> String {
    admin_client()
        .get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .text()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

/// GETs `url` with the test admin token and parses the answer as JSON
/// (panics on a failed request or a body that is not JSON).
pub async fn get_json_as_admin(url: &str) -> serde_json::Value {
    let text = get_text_as_admin(url).await;
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("GET {url}: not JSON ({e}): {text}"))
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

/// Polls `url` with `client` until it answers `status` (within
/// [`crate::WAIT`]); gives that answer's body.
pub async fn wait_for_status(client: &reqwest::Client, url: &str, status: u16) -> String {
    let deadline = tokio::time::Instant::now() + crate::WAIT;
    loop {
        let res = client.get(url).send().await.unwrap();
        if res.status() == status {
            return res.text().await.unwrap();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{url} never answered {status}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
