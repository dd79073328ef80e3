//! The one HTTP helper both test modules need.

use serde::de::DeserializeOwned;

/// GETs `url` and parses its JSON answer, whatever the status.
pub async fn get_json<T: DeserializeOwned>(client: &reqwest::Client, url: &str) -> T {
    let res = client
        .get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    res.json()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: not the expected JSON: {e}"))
}
