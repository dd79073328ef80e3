//! POST / with urlencoded and JSON bodies: echo, storage, content negotiation.

use crate::helpers::spawn_app;

const FORM: &str = "application/x-www-form-urlencoded";

#[tokio::test]
async fn urlencoded_post_is_echoed_and_stored() {
    let app = spawn_app(&[]).await;
    let res = app
        .post(FORM, "userinput1=hello+there&userinput2=caf%C3%A9")
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.text().await.unwrap(),
        r#"You Posted: {"userinput1":"hello there","userinput2":"café"}"#
    );
    let stored = app.stored();
    assert_eq!(stored.len(), 1);
    let record = &stored[0];
    assert_eq!(record["content_type"], FORM);
    assert_eq!(record["fields"]["userinput2"], "café");
    assert!(record["id"].as_str().is_some_and(|id| id.len() == 36));
    let received = record["received_at"].as_str().unwrap();
    assert!(
        time::OffsetDateTime::parse(received, &time::format_description::well_known::Rfc3339)
            .is_ok()
    );
}

#[tokio::test]
async fn repeated_keys_become_arrays() {
    let app = spawn_app(&[]).await;
    let res = app.post(FORM, "a=1&a=2&b=x").await;
    assert_eq!(
        res.text().await.unwrap(),
        r#"You Posted: {"a":["1","2"],"b":"x"}"#
    );
    assert_eq!(
        app.stored()[0]["fields"],
        serde_json::json!({"a": ["1", "2"], "b": "x"})
    );
}

#[tokio::test]
async fn charset_utf8_parameter_is_accepted_other_charsets_are_not() {
    let app = spawn_app(&[]).await;
    let res = app
        .post("application/x-www-form-urlencoded; charset=UTF-8", "a=1")
        .await;
    assert_eq!(res.status(), 200);
    let res = app.post("application/json; charset=utf-8", "{}").await;
    assert_eq!(res.status(), 200);
    let res = app
        .post("application/x-www-form-urlencoded; charset=latin1", "a=1")
        .await;
    assert_eq!(res.status(), 415);
    assert_eq!(app.stored().len(), 2);
}

#[tokio::test]
async fn json_post_is_echoed_as_data() {
    let app = spawn_app(&[]).await;
    let body = r#"{"userinput1": "x", "n": 12345678901234567890123, "nested": {"a": [1, 2]}}"#;
    let res = app.post("application/json", body).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json");
    let text = res.text().await.unwrap();
    assert_eq!(text, format!(r#"{{"data": {body}}}"#));
    let stored = app.stored();
    assert_eq!(stored[0]["content_type"], "application/json");
    assert_eq!(stored[0]["fields"]["nested"]["a"][1], 2);
    // Big numbers are kept exactly as posted, not rounded through a float.
    let raw = app.journal_text();
    assert!(raw.contains("12345678901234567890123"));
}

#[tokio::test]
async fn multi_line_json_is_stored_on_one_line() {
    let app = spawn_app(&[]).await;
    let res = app
        .post("application/json", "{\n  \"a\": \"line\\nbreak\"\n}\n")
        .await;
    assert_eq!(res.status(), 200);
    let stored = app.stored();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["fields"]["a"], "line\nbreak");
}

#[tokio::test]
async fn invalid_json_is_400_and_not_stored() {
    let app = spawn_app(&[]).await;
    for body in ["{", "  ", "{\"a\":1} trailing", "{'a':1}"] {
        let res = app.post("application/json", body).await;
        assert_eq!(res.status(), 400, "{body:?}");
        let text = res.text().await.unwrap();
        assert!(text.starts_with("invalid JSON"), "{text}");
    }
    assert!(app.stored().is_empty());
}

#[tokio::test]
async fn invalid_utf8_is_400() {
    let app = spawn_app(&[]).await;
    let res = app.post(FORM, "a=%FF%FE").await;
    assert_eq!(res.status(), 400);
    assert_eq!(res.text().await.unwrap(), "the body is not valid UTF-8");
    let res = app.post(FORM, b"a=\xff".to_vec()).await;
    assert_eq!(res.status(), 400);
    let res = app
        .post("application/json", b"{\"a\":\"\xc3\x28\"}".to_vec())
        .await;
    assert_eq!(res.status(), 400);
    assert!(app.stored().is_empty());
}

#[tokio::test]
async fn other_content_types_are_415() {
    let app = spawn_app(&[]).await;
    for ct in [
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/jsonx",
        "nonsense",
    ] {
        let res = app.post(ct, "a=1").await;
        assert_eq!(res.status(), 415, "{ct}");
    }
    let res = app
        .client
        .post(app.url("/"))
        .body("a=1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415, "no content type");
    assert!(app.stored().is_empty());
}

#[tokio::test]
async fn accept_json_gets_json_for_successes_and_errors() {
    let app = spawn_app(&[]).await;
    let res = app
        .client
        .post(app.url("/"))
        .header("content-type", FORM)
        .header("accept", "application/json")
        .body("a=1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"data": {"a": "1"}}));

    for (ct, body, status, code) in [
        ("text/plain", "x", 415, "unsupported_media_type"),
        ("application/json", "{", 400, "invalid_json"),
    ] {
        let res = app
            .client
            .post(app.url("/"))
            .header("content-type", ct)
            .header("accept", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), status);
        assert_eq!(res.headers()["content-type"], "application/json");
        let json: serde_json::Value = res.json().await.unwrap();
        assert_eq!(json["error"]["code"], code);
        assert!(json["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }
}
