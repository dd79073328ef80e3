//! /healthz and /readyz.

use crate::helpers::spawn_app;

#[tokio::test]
async fn healthz_is_ok() {
    let app = spawn_app(&[]).await;
    let res = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn readyz_fails_when_the_data_dir_is_not_writable() {
    let app = spawn_app(&[]).await;
    let res = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ready");

    // Tests run as root, which ignores permission bits; a file where the
    // folder should be makes it unwritable for anyone.
    let forms_dir = app.data_dir.path().join("forms");
    std::fs::remove_dir_all(&forms_dir).unwrap();
    std::fs::write(&forms_dir, b"not a folder").unwrap();

    let res = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), 503);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "not ready");
    let failing = failing_checks(&body);
    assert_eq!(failing.len(), 1);
    assert!(failing[0].starts_with("writable:"), "{failing:?}");

    std::fs::remove_file(&forms_dir).unwrap();
    std::fs::create_dir(&forms_dir).unwrap();
    let res = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn readyz_fails_when_the_journal_writer_has_stopped() {
    let app = spawn_app(&[]).await;
    let res = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), 200);

    app.store
        .journal()
        .expect("the default store is the journal")
        .close()
        .await;
    // The writer stops once it has taken the close; /readyz follows.
    let deadline = tokio::time::Instant::now() + inlet_testkit::WAIT;
    let body = loop {
        let res = app.client.get(app.url("/readyz")).send().await.unwrap();
        if res.status() == 503 {
            break res.json::<serde_json::Value>().await.unwrap();
        }
        assert!(tokio::time::Instant::now() < deadline, "/readyz stayed 200");
        tokio::task::yield_now().await;
    };
    let failing = failing_checks(&body);
    assert_eq!(failing, ["journal-writer"]);

    let res = app.post("application/x-www-form-urlencoded", "a=1").await;
    assert_eq!(res.status(), 500);
    assert_eq!(res.text().await.unwrap(), "storing the submission failed");
    assert!(app.stored().is_empty());
}

/// The names of the checks a `/readyz` body reports as failing.
fn failing_checks(body: &serde_json::Value) -> Vec<&str> {
    body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| c["name"].as_str().unwrap())
        .collect()
}
