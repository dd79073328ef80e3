//! Deleting a stored file and retention, through a running service.

use std::time::{Duration, SystemTime};

use inlet_common::publish::event::Kind;
use inlet_testkit::access::{assert_delete_needs_the_delete_scope, READ_TOKEN};
use inlet_testkit::ingest::IngestStandIn;

use crate::helpers::{spawn_app, TestApp};

async fn store(app: &TestApp, name: &str, body: &str) -> String {
    let res = app.put("f", name, body.to_owned()).await;
    assert_eq!(res.status(), 200);
    let answer: serde_json::Value = res.json().await.unwrap();
    answer["stored"][0]["name"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_deleted_file_is_gone_from_every_read_and_announced() {
    let mut gateway = IngestStandIn::start().await;
    let app = spawn_app(&[
        ("INLET_GATEWAY_URL", &gateway.url),
        ("INLET_READ_TOKEN", READ_TOKEN),
    ])
    .await;
    let keep = store(&app, "keep.txt", "kept").await;
    let gone = store(&app, "gone.txt", "to be deleted").await;
    gateway.next().await;
    gateway.next().await;
    let url = app.url(&format!("/files/{gone}"));
    assert_delete_needs_the_delete_scope(&url).await;
    assert_eq!(app.client.get(&url).send().await.unwrap().status(), 200);

    let res = app.client.delete(&url).send().await.unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(app.client.get(&url).send().await.unwrap().status(), 404);
    let meta = app.client.get(format!("{url}/meta")).send().await.unwrap();
    assert_eq!(meta.status(), 404);
    let listed = inlet_testkit::http::get_json_as_admin(&app.url("/files")).await;
    let names: Vec<&str> = listed["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, [keep.as_str()]);
    assert_eq!(
        app.stored(),
        std::slice::from_ref(&keep),
        "the bytes left the folder"
    );
    // Twice, an unknown name, and names that are not stored names: 404, nothing else moves.
    for path in [
        format!("/files/{gone}"),
        "/files/nothing.txt".to_owned(),
        "/files/..%2Fsecrets".to_owned(),
        "/files/.incoming-x".to_owned(),
    ] {
        let res = app.client.delete(app.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), 404, "{path}");
    }
    assert_eq!(app.stored(), [keep]);

    let published = gateway.next().await;
    let Some(Kind::FileDeleted(deleted)) = published.event.kind else {
        panic!("not a deletion: {:?}", published.event);
    };
    assert_eq!(deleted.stored_name, gone);
    assert_eq!(deleted.reason, "deleted");
    assert_eq!(
        app.metric(r#"inlet_uploads_files_removed_total{reason="deleted"}"#)
            .await,
        1.0
    );
    assert_eq!(
        app.metric(r#"inlet_uploads_files_removed_bytes_total{reason="deleted"}"#)
            .await,
        13.0
    );
}

#[tokio::test]
async fn the_sweep_removes_files_past_their_age_and_over_the_count_oldest_first() {
    let mut gateway = IngestStandIn::start().await;
    let app = spawn_app(&[
        ("INLET_GATEWAY_URL", &gateway.url),
        ("INLET_STORE__RETENTION_MAX_AGE", "1d"),
        ("INLET_STORE__RETENTION_MAX_FILES", "3"),
        ("INLET_STORE__SWEEP_INTERVAL", "50ms"),
    ])
    .await;
    let mut names = Vec::new();
    for n in 0..3 {
        names.push(store(&app, &format!("f{n}.txt"), "x").await);
        gateway.next().await;
    }
    // The middle file was stored two days ago, as far as its clock says.
    std::fs::File::options()
        .write(true)
        .open(app.uploads_dir().join(&names[1]))
        .unwrap()
        .set_modified(SystemTime::now() - Duration::from_secs(2 * 86_400))
        .unwrap();
    let mut removed = Vec::new();
    while removed.is_empty() {
        let published = tokio::time::timeout(Duration::from_secs(10), gateway.next())
            .await
            .expect("the sweep announces what it removed");
        if let Some(Kind::FileDeleted(file)) = published.event.kind {
            removed.push((file.stored_name, file.reason));
        }
    }
    assert_eq!(removed, [(names[1].clone(), "max_age".to_owned())]);
    // Two more files make four: the oldest goes for the count.
    names.push(store(&app, "f3.txt", "x").await);
    names.push(store(&app, "f4.txt", "x").await);
    loop {
        let published = tokio::time::timeout(Duration::from_secs(10), gateway.next())
            .await
            .expect("the sweep announces what it removed");
        if let Some(Kind::FileDeleted(file)) = published.event.kind {
            removed.push((file.stored_name, file.reason));
            break;
        }
    }
    assert_eq!(removed[1], (names[0].clone(), "max_files".to_owned()));
    let mut left = app.stored();
    left.sort();
    assert_eq!(left, [names[2].clone(), names[3].clone(), names[4].clone()]);
    assert_eq!(
        app.metric(r#"inlet_uploads_files_removed_total{reason="max_age"}"#)
            .await,
        1.0
    );
}
