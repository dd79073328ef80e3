//! Deleting a submission, erasing it from the disk, retention at start-up,
//! and the low-disk guard, through the HTTP API of a running service.

use std::time::Duration;

use inlet_common::publish::event::Kind;
use inlet_testkit::access::{assert_delete_needs_the_delete_scope, READ_TOKEN};
use inlet_testkit::ingest::IngestStandIn;

use crate::helpers::{scrape_at, spawn_app, spawn_in, value};

/// Posts `{"marker": marker}` and returns the stored submission's id.
async fn post_marker(app: &crate::helpers::TestApp, marker: &str) -> String {
    let res = app
        .client
        .post(app.url("/"))
        .header("accept", "application/json")
        .header("content-type", "application/json")
        .body(format!(r#"{{"marker":"{marker}"}}"#))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let stored = app.stored();
    let last = stored.last().unwrap();
    assert_eq!(last["fields"]["marker"], marker);
    last["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_deleted_submission_is_gone_from_every_read_and_announced() {
    let mut gateway = IngestStandIn::start().await;
    let app = spawn_app(&[
        ("INLET_GATEWAY_URL", &gateway.url),
        ("INLET_READ_TOKEN", READ_TOKEN),
    ])
    .await;
    let ids: Vec<String> = {
        let mut ids = Vec::new();
        for n in 0..3 {
            ids.push(post_marker(&app, &format!("keep-{n}")).await);
        }
        ids
    };
    for _ in 0..3 {
        gateway.next().await;
    }
    let url = app.url(&format!("/submissions/{}", ids[1]));
    assert_delete_needs_the_delete_scope(&url).await;
    assert_eq!(
        app.client.get(&url).send().await.unwrap().status(),
        200,
        "nothing deleted yet"
    );

    let res = app.client.delete(&url).send().await.unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(res.text().await.unwrap(), "");
    assert_eq!(app.client.get(&url).send().await.unwrap().status(), 404);
    let listed = app.get_json("/submissions").await;
    let listed: Vec<&str> = listed["submissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [ids[2].as_str(), ids[0].as_str()]);
    // Again, and an id nobody stored: 404, nothing changes.
    assert_eq!(app.client.delete(&url).send().await.unwrap().status(), 404);
    let unknown = app.url(&format!("/submissions/{}", uuid::Uuid::now_v7()));
    let res = app.client.delete(&unknown).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let not_an_id = app
        .client
        .delete(app.url("/submissions/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(not_an_id.status(), 404);

    let published = gateway.next().await;
    let Some(Kind::SubmissionDeleted(deleted)) = published.event.kind else {
        panic!("not a deletion: {:?}", published.event);
    };
    assert_eq!(deleted.submission_id, ids[1]);
    assert_eq!(published.event.id, ids[1]);
    let scrape = scrape_at(&app.url("")).await;
    assert_eq!(
        value(
            &scrape,
            "inlet_forms_submissions_removed_total",
            &[("reason", "deleted")]
        ),
        1.0
    );

    // A restart keeps it deleted.
    let data = app.stop().await;
    let app = spawn_in(data, &[]).await;
    let url = app.url(&format!("/submissions/{}", ids[1]));
    assert_eq!(app.client.get(&url).send().await.unwrap().status(), 404);
    assert_eq!(
        app.get_json("/submissions").await["submissions"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn compaction_on_demand_erases_the_bytes_from_every_file_under_the_data_folder() {
    let app = spawn_app(&[("INLET_STORE__SEGMENT_BYTES", "4096")]).await;
    let marker = format!("erase-me-{}", uuid::Uuid::now_v7().simple());
    let mut kept = Vec::new();
    for n in 0..30 {
        kept.push(post_marker(&app, &format!("kept-{n:02}")).await);
    }
    let victim = post_marker(&app, &marker).await;
    kept.push(post_marker(&app, "kept-last").await);
    let before: Vec<serde_json::Value> = app
        .stored()
        .into_iter()
        .filter(|s| s["id"] != victim.as_str())
        .collect();
    let res = app
        .client
        .delete(app.url(&format!("/submissions/{victim}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert!(
        !inlet_testkit::files::containing(app.data_dir.path(), &marker).is_empty(),
        "not erased until compaction"
    );

    let res = app
        .client
        .post(app.url("/submissions/compact"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let done: serde_json::Value = res.json().await.unwrap();
    assert_eq!(done["erased"], 1, "{done}");
    assert_eq!(
        inlet_testkit::files::containing(app.data_dir.path(), &marker),
        Vec::<String>::new()
    );
    // Every other record as it was, and each still found by its id.
    let after: Vec<serde_json::Value> = app
        .stored()
        .into_iter()
        .filter(|s| s.get("erased").is_none())
        .collect();
    assert_eq!(after, before);
    for id in &kept {
        let res = app
            .client
            .get(app.url(&format!("/submissions/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{id}");
    }
    let read_only = app
        .client
        .post(app.url("/submissions/compact"))
        .bearer_auth(READ_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(
        read_only.status(),
        401,
        "no read token is set: a wrong credential"
    );
}

#[tokio::test]
async fn the_start_up_sweep_drops_the_oldest_segments_over_the_size_and_announces_it() {
    let settings = [
        ("INLET_STORE__SEGMENT_BYTES", "4096"),
        ("INLET_STORE__RETENTION_MAX_BYTES", "10000"),
        ("INLET_STORE__SWEEP_INTERVAL", "1h"),
    ];
    let mut gateway = IngestStandIn::start().await;
    let app = spawn_app(&[("INLET_STORE__SEGMENT_BYTES", "4096")]).await;
    let mut ids = Vec::new();
    for n in 0..80 {
        ids.push(post_marker(&app, &format!("n-{n:03}")).await);
    }
    let data = app.stop().await;
    let mut env: Vec<(&str, &str)> = settings.to_vec();
    env.push(("INLET_GATEWAY_URL", &gateway.url));
    let app = spawn_in(data, &env).await;
    // The sweep runs as the service starts: wait for its announcement.
    let published = tokio::time::timeout(Duration::from_secs(10), gateway.next())
        .await
        .expect("the start-up sweep announces what it dropped");
    let Some(Kind::SubmissionsExpired(expired)) = published.event.kind else {
        panic!("not an expiry: {:?}", published.event);
    };
    assert_eq!(expired.reason, "max_bytes");
    let left = app.stored();
    assert_eq!(left.len() as u64, 80 - expired.count);
    assert_eq!(
        left[0]["id"],
        ids[80 - left.len()].as_str(),
        "the newest are kept"
    );
    let dropped_last = ids
        .iter()
        .position(|id| *id == expired.last_submission_id)
        .unwrap();
    assert_eq!(dropped_last + 1, 80 - left.len());
    let journal_bytes: u64 = std::fs::read_dir(app.forms_dir().join("journal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl" || e == "idx"))
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    assert!(journal_bytes <= 10_000, "{journal_bytes}");
    let scrape = scrape_at(&app.url("")).await;
    assert_eq!(
        value(
            &scrape,
            "inlet_forms_submissions_removed_total",
            &[("reason", "max_bytes")]
        ),
        expired.count as f64
    );
    // Paging from the top still reaches the end.
    let page = app.get_json("/submissions?limit=1000").await;
    assert_eq!(page["submissions"].as_array().unwrap().len(), left.len());
    assert!(page["next_cursor"].is_null(), "{page}");
}

#[tokio::test]
async fn under_the_disk_floor_posts_are_507_and_readyz_says_why_while_reads_go_on() {
    let app = spawn_app(&[("INLET_DISK__MIN_FREE_BYTES", &u64::MAX.to_string())]).await;
    let res = app.post("application/x-www-form-urlencoded", "a=b").await;
    assert_eq!(res.status(), 507);
    assert_eq!(
        res.headers().get("connection").map(|v| v.to_str().unwrap()),
        Some("close")
    );
    let text = res.text().await.unwrap();
    assert!(text.contains("disk is nearly full"), "{text}");
    assert!(app.stored().is_empty(), "nothing written");
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let report: serde_json::Value = ready.json().await.unwrap();
    let disk = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "disk-space")
        .expect("a disk-space check");
    assert_eq!(disk["ok"], false, "{report}");
    assert_eq!(
        app.client
            .get(app.url("/submissions"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}
