//! The seed's GET routes, 404 and 405.

use crate::helpers::spawn_app;

#[tokio::test]
async fn index_serves_the_urlencoded_form() {
    let app = spawn_app(&[]).await;
    let res = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let body = res.text().await.unwrap();
    assert!(body.contains(r#"<form method="POST""#), "{body}");
    assert!(body.contains(r#"name="userinput1""#));
    assert!(body.contains(r#"name="userinput2""#));
    assert!(body.contains(r#"href="/about""#));
}

#[tokio::test]
async fn json_page_posts_json_from_a_script() {
    let app = spawn_app(&[]).await;
    let body = app
        .client
        .get(app.url("/json"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("<script>"));
    assert!(body.contains("'Content-Type': 'application/json'"));
    assert!(body.contains("You Posted: "));
}

#[tokio::test]
async fn about_and_contact_pages() {
    let app = spawn_app(&[]).await;
    for (path, text) in [
        ("/about", "All about this thing"),
        ("/contact", "Contact us"),
    ] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert!(res.text().await.unwrap().contains(text), "{path}");
    }
}

#[tokio::test]
async fn head_answers_without_a_body() {
    let app = spawn_app(&[]).await;
    let res = app.client.head(app.url("/about")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().is_empty());
}

#[tokio::test]
async fn unknown_paths_are_404() {
    let app = spawn_app(&[]).await;
    let res = app.client.get(app.url("/nowhere")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(res.text().await.unwrap(), "Not Found");
}

#[tokio::test]
async fn unserved_methods_are_405_with_allow() {
    let app = spawn_app(&[]).await;
    let cases = [
        (reqwest::Method::PUT, "/", "GET, HEAD, POST"),
        (reqwest::Method::DELETE, "/", "GET, HEAD, POST"),
        (reqwest::Method::POST, "/about", "GET, HEAD"),
        (reqwest::Method::POST, "/contact", "GET, HEAD"),
        (reqwest::Method::POST, "/json", "GET, HEAD"),
        (reqwest::Method::DELETE, "/submissions", "GET, HEAD"),
        (reqwest::Method::POST, "/healthz", "GET, HEAD"),
    ];
    for (method, path, allow) in cases {
        let res = app
            .client
            .request(method.clone(), app.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 405, "{method} {path}");
        assert_eq!(res.headers()["allow"], allow, "{method} {path}");
    }
}

#[tokio::test]
async fn errors_are_json_when_the_client_prefers_json() {
    let app = spawn_app(&[]).await;
    let res = app
        .client
        .put(app.url("/"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers()["content-type"], "application/json");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed");
    assert_eq!(body["error"]["message"], "Method Not Allowed");

    let res = app
        .client
        .get(app.url("/missing"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
}

#[tokio::test]
async fn a_host_name_not_allowed_gets_403_and_what_was_stored_stays_unread() {
    let app = spawn_app(&[]).await;
    let client = inlet_testkit::http::client();
    for path in ["/", "/submissions"] {
        let res = client
            .get(app.url(path))
            .header("host", "rebound.evil.example")
            .header("accept", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{path}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "host_not_allowed");
    }
    let posted = client
        .post(app.url("/"))
        .header("host", "rebound.evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("a=1")
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 403);
    assert!(app.stored().is_empty(), "nothing stored for a refused host");
    let allowed = spawn_app(&[("INLET_HTTP__ALLOWED_HOSTS", "forms.example,localhost")]).await;
    let res = client
        .get(allowed.url("/"))
        .header("host", "FORMS.example:443")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}
