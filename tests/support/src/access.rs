//! The credentials every test server is started with, and how tests send them.

/// `INLET_ADMIN_TOKEN` of every test server: every scope.
pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789abcdef";
/// `INLET_READ_TOKEN` where a test sets one: read only.
pub const READ_TOKEN: &str = "test-read-token-0123456789abcdef";
/// `INLET_PUBLISH_TOKEN` of every test gateway and publisher.
pub const PUBLISH_TOKEN: &str = "test-publish-token-0123456789abc";

/// The `INLET_*` pairs that give a test server the credentials above.
pub const CREDENTIAL_ENV: [(&str, &str); 2] = [
    ("INLET_ADMIN_TOKEN", ADMIN_TOKEN),
    ("INLET_PUBLISH_TOKEN", PUBLISH_TOKEN),
];

/// `Bearer <ADMIN_TOKEN>`, an `Authorization` value.
pub fn admin_bearer() -> String {
    format!("Bearer {ADMIN_TOKEN}")
}

/// Checks that GET `url` is a read that needs a credential: without one
/// 401 with a Bearer challenge, with a wrong one 401, with the admin token
/// 200, with the read token (when `read_token_set`) 200, each refusal a
/// sentence that says what to do. Runs from one address; each wrong try
/// spends one of its failures.
pub async fn assert_read_needs_the_credential(url: &str, read_token_set: bool) {
    let client = crate::http::client();
    let missing = client.get(url).send().await.expect("an answer");
    assert_eq!(missing.status(), 401, "{url} without a credential");
    let challenge = missing.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(challenge.starts_with("Bearer realm="), "{url}: {challenge}");
    let text = missing.text().await.unwrap();
    assert!(text.contains("Authorization: Bearer"), "{url}: {text}");

    let wrong = client
        .get(url)
        .bearer_auth("not-the-token-0123456789")
        .header("accept", "application/json")
        .send()
        .await
        .expect("an answer");
    assert_eq!(wrong.status(), 401, "{url} with a wrong credential");
    assert!(wrong.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("invalid_token"));
    let body: serde_json::Value = wrong.json().await.unwrap();
    assert_eq!(body["error"]["code"], "bad_credential", "{url}: {body}");

    let right = client
        .get(url)
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .expect("an answer");
    assert_eq!(right.status(), 200, "{url} with the admin token");
    if read_token_set {
        let read = client
            .get(url)
            .bearer_auth(READ_TOKEN)
            .send()
            .await
            .expect("an answer");
        assert_eq!(read.status(), 200, "{url} with the read token");
    }
}

/// Checks that DELETE `url` needs the delete scope, without deleting
/// anything: without a credential 401, with the read token (the server must
/// have `INLET_READ_TOKEN` = [`READ_TOKEN`]) 403 `insufficient_scope`
/// naming the scope in its challenge.
pub async fn assert_delete_needs_the_delete_scope(url: &str) {
    let client = crate::http::client();
    let missing = client.delete(url).send().await.expect("an answer");
    assert_eq!(missing.status(), 401, "DELETE {url} without a credential");
    let read_only = client
        .delete(url)
        .bearer_auth(READ_TOKEN)
        .header("accept", "application/json")
        .send()
        .await
        .expect("an answer");
    assert_eq!(read_only.status(), 403, "DELETE {url} with the read token");
    let challenge = read_only.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(challenge.contains("insufficient_scope"), "{challenge}");
    assert!(challenge.contains("delete"), "{challenge}");
    let body: serde_json::Value = read_only.json().await.unwrap();
    assert_eq!(body["error"]["code"], "insufficient_scope", "{url}: {body}");
}
