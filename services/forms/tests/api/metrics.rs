//! `/metrics` after known traffic, read with a Prometheus text parser.

use prometheus_parse::Scrape;

use crate::helpers::{spawn_app, value, TestApp, DEFAULT_CAP};

const FORM: &str = "application/x-www-form-urlencoded";
const JSON: &str = "application/json";

async fn scrape(app: &TestApp) -> Scrape {
    let res = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    let text = res.text().await.unwrap();
    Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).expect("valid exposition text")
}

#[tokio::test]
async fn metrics_count_known_traffic() {
    let app = spawn_app(&[]).await;
    for i in 0..3 {
        assert_eq!(app.post(FORM, format!("a={i}")).await.status(), 200);
    }
    for i in 0..2 {
        assert_eq!(
            app.post(JSON, format!(r#"{{"a":{i}}}"#)).await.status(),
            200
        );
    }
    assert_eq!(app.post("text/plain", "x").await.status(), 415);
    assert_eq!(
        app.post(FORM, vec![b'a'; DEFAULT_CAP + 1]).await.status(),
        413
    );

    let scrape = scrape(&app).await;
    let stored = "inlet_forms_submissions_stored_total";
    assert_eq!(value(&scrape, stored, &[("content_type", FORM)]), 3.0);
    assert_eq!(value(&scrape, stored, &[("content_type", JSON)]), 2.0);
    let refused = "inlet_forms_submissions_refused_total";
    assert_eq!(
        value(&scrape, refused, &[("reason", "unsupported_media_type")]),
        1.0
    );
    assert_eq!(
        value(&scrape, refused, &[("reason", "payload_too_large")]),
        1.0
    );

    let posts = |status: &'static str| {
        [
            ("http_request_method", "POST"),
            ("http_route", "/"),
            ("http_response_status_code", status),
        ]
    };
    let requests = "http_server_request_duration_seconds_count";
    assert_eq!(value(&scrape, requests, &posts("200")), 5.0);
    assert_eq!(value(&scrape, requests, &posts("415")), 1.0);
    assert_eq!(value(&scrape, requests, &posts("413")), 1.0);
    // The scrape itself is the one request in flight.
    assert_eq!(value(&scrape, "http_server_active_requests", &[]), 1.0);

    // Every stored record went through exactly one group commit.
    assert_eq!(
        value(&scrape, "inlet_forms_journal_batch_size_sum", &[]),
        5.0
    );
    let batches = value(&scrape, "inlet_forms_journal_batch_size_count", &[]);
    assert!((1.0..=5.0).contains(&batches), "{batches}");
    assert_eq!(
        value(
            &scrape,
            "inlet_forms_journal_fsync_duration_seconds_count",
            &[]
        ),
        batches
    );
    assert_eq!(value(&scrape, "inlet_forms_journal_queue_depth", &[]), 0.0);
}
