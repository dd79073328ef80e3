//! Reading submissions needs the credential; posting does not.

use inlet_testkit::access::{assert_read_needs_the_credential, ADMIN_TOKEN, READ_TOKEN};

use crate::helpers::{scrape_at, spawn_app, value};

#[tokio::test]
async fn reading_needs_the_credential_and_posting_does_not() {
    let app = spawn_app(&[("INLET_READ_TOKEN", READ_TOKEN)]).await;
    let anonymous = inlet_testkit::http::client();
    let posted = anonymous
        .post(app.url("/"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=Ada")
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 200, "intake stays open");
    for path in ["/submissions", "/submissions?limit=1"] {
        assert_read_needs_the_credential(&app.url(path), true).await;
    }
    let page = app.get_json("/submissions").await;
    assert_eq!(page["submissions"][0]["fields"]["name"], "Ada");
    let scrape = scrape_at(&app.url("")).await;
    assert_eq!(
        value(
            &scrape,
            "inlet_access_denied_total",
            &[("reason", "missing")]
        ),
        2.0
    );
    assert_eq!(
        value(&scrape, "inlet_access_denied_total", &[("reason", "wrong")]),
        2.0
    );
}

#[tokio::test]
async fn with_no_credential_configured_nothing_stored_can_be_read() {
    let app = spawn_app(&[("INLET_ADMIN_TOKEN", "")]).await;
    let res = inlet_testkit::http::client()
        .get(app.url("/submissions"))
        .bearer_auth(ADMIN_TOKEN)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "reading_disabled");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("INLET_ADMIN_TOKEN"), "{message}");
}

#[tokio::test]
async fn a_guesser_is_slowed_down_while_the_owner_is_served_at_once() {
    let app = spawn_app(&[
        ("INLET_HTTP__TRUSTED_PROXIES", "127.0.0.1/32"),
        ("INLET_ACCESS__FAILURE_BURST", "3"),
        ("INLET_ACCESS__FAILURES_PER_SECOND", "1"),
    ])
    .await;
    let client = inlet_testkit::http::client();
    let url = app.url("/submissions");
    let from = |address: &'static str, token: &str| {
        client
            .get(&url)
            .header("x-forwarded-for", address)
            .bearer_auth(token)
            .send()
    };
    for _ in 0..3 {
        let res = from("203.0.113.9", "guess-0123456789abcdef").await.unwrap();
        assert_eq!(res.status(), 401);
    }
    let slowed = from("203.0.113.9", "guess-0123456789abcdef").await.unwrap();
    assert_eq!(slowed.status(), 429);
    assert_eq!(slowed.headers()["retry-after"], "1");
    // Not even the right token is looked at from that address now.
    let right_but_slowed = from("203.0.113.9", ADMIN_TOKEN).await.unwrap();
    assert_eq!(right_but_slowed.status(), 429);
    // Anyone else is served at once.
    let owner = from("198.51.100.7", ADMIN_TOKEN).await.unwrap();
    assert_eq!(owner.status(), 200);
    let scrape = scrape_at(&app.url("")).await;
    assert_eq!(
        value(&scrape, "inlet_access_denied_total", &[("reason", "wrong")]),
        3.0
    );
    assert_eq!(
        value(
            &scrape,
            "inlet_access_denied_total",
            &[("reason", "throttled")]
        ),
        2.0
    );
}

#[tokio::test]
async fn health_and_metrics_need_the_credential_except_on_the_admin_listener() {
    let app = spawn_app(&[("INLET_ADMIN_LISTEN", "127.0.0.1:0")]).await;
    let admin = app.admin_port.expect("an admin listener");
    let anonymous = inlet_testkit::http::client();
    for path in ["/healthz", "/readyz", "/metrics"] {
        assert_read_needs_the_credential(&app.url(path), false).await;
        let open = anonymous
            .get(format!("http://127.0.0.1:{admin}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(open.status(), 200, "{path} on the admin listener");
    }
    // The admin listener serves nothing stored and takes nothing in.
    for path in ["/submissions", "/"] {
        let res = anonymous
            .get(format!("http://127.0.0.1:{admin}{path}"))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{path} on the admin listener");
    }
}

#[tokio::test]
async fn one_submission_by_its_id_needs_the_credential_and_unknown_ids_are_404() {
    let app = spawn_app(&[]).await;
    let posted = app.post("application/json", r#"{"a":1}"#).await;
    assert_eq!(posted.status(), 200);
    let page = app.get_json("/submissions").await;
    let record = page["submissions"][0].clone();
    let id = record["id"].as_str().unwrap();
    assert_read_needs_the_credential(&app.url(&format!("/submissions/{id}")), false).await;
    assert_eq!(app.get_json(&format!("/submissions/{id}")).await, record);
    for unknown in [
        "0190f0a0-0000-7000-8000-000000000001",
        "not-an-id",
        "..%2F..%2Fetc%2Fpasswd",
        &uuid::Uuid::now_v7().to_string(),
    ] {
        let res = app
            .client
            .get(app.url(&format!("/submissions/{unknown}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{unknown}");
    }
}

#[tokio::test]
async fn submissions_page_like_every_list() {
    let app = spawn_app(&[("INLET_LIMITS__MAX_LIST_LIMIT", "20")]).await;
    for n in 0..5 {
        let res = app
            .post("application/json", format!(r#"{{"n":{n}}}"#))
            .await;
        assert_eq!(res.status(), 200);
    }
    let all = inlet_testkit::paging::assert_pages_like_every_list(
        &app.url("/submissions"),
        "submissions",
        20,
    )
    .await;
    let order: Vec<u64> = all
        .iter()
        .map(|r| r["fields"]["n"].as_u64().unwrap())
        .collect();
    assert_eq!(order, [4, 3, 2, 1, 0]);
}
