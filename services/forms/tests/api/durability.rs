//! Records are durable, never interleaved, survive restarts, and page newest first.

use std::collections::HashSet;
use std::io::Write;

use crate::helpers::{scrape_at, spawn_app, spawn_in, value, TestApp};

#[tokio::test]
async fn concurrent_posts_each_become_exactly_one_valid_line() {
    let app = spawn_app(&[]).await;
    let posts = (0..200).map(|i| {
        let app = &app;
        async move {
            // Mixed sizes so interleaving would show up as broken lines.
            let body = format!("n={i}&pad={}", "p".repeat(i * 37 % 5000));
            app.post("application/x-www-form-urlencoded", body)
                .await
                .status()
        }
    });
    let statuses = futures_util::future::join_all(posts).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");

    let stored = app.stored();
    assert_eq!(stored.len(), 200);
    let numbers: HashSet<u64> = stored
        .iter()
        .map(|r| r["fields"]["n"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(numbers, (0..200).collect());
    let ids: HashSet<&str> = stored.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 200);
}

#[tokio::test]
async fn records_survive_a_restart_and_list_newest_first() {
    let app = spawn_app(&[]).await;
    for i in 0..5 {
        assert_eq!(
            app.post("application/json", format!(r#"{{"i":{i}}}"#))
                .await
                .status(),
            200
        );
    }
    let dir = app.stop().await;

    let app = spawn_in(dir, &[]).await;
    assert_eq!(
        app.post("application/json", r#"{"i":5}"#).await.status(),
        200
    );
    let page = app.get_json("/submissions").await;
    let order: Vec<i64> = page["submissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["fields"]["i"].as_i64().unwrap())
        .collect();
    assert_eq!(order, [5, 4, 3, 2, 1, 0]);
    assert!(page["next_cursor"].is_null());
}

#[tokio::test]
async fn pages_follow_the_cursor_to_the_end() {
    let app = spawn_app(&[]).await;
    for i in 0..7 {
        app.post("application/json", format!("{i}")).await;
    }
    let mut seen = Vec::new();
    let mut path = "/submissions?limit=3".to_string();
    loop {
        let page = app.get_json(&path).await;
        let records = page["submissions"].as_array().unwrap();
        assert!(records.len() <= 3);
        seen.extend(records.iter().map(|r| r["fields"].as_i64().unwrap()));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/submissions?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, [6, 5, 4, 3, 2, 1, 0]);
}

#[tokio::test]
async fn a_page_stops_before_the_record_that_would_pass_its_byte_budget() {
    let app = spawn_app(&[("INLET_LIMITS__MAX_PAGE_BYTES", "1000")]).await;
    // Each stored record is a little over 300 bytes: three fit in 1000, four do not.
    for n in 0..7 {
        let body = format!(r#"{{"n":{n},"pad":"{}"}}"#, "x".repeat(130));
        assert_eq!(app.post("application/json", body).await.status(), 200);
    }
    let line = app.journal_text();
    let record = line.lines().next().unwrap().len() + 1;
    assert!(
        3 * record <= 1000 && 4 * record > 1000,
        "a record is {record} bytes"
    );

    let mut seen = Vec::new();
    let mut path = "/submissions?limit=100".to_string();
    loop {
        let page = app.get_json(&path).await;
        let records = page["submissions"].as_array().unwrap();
        assert!(!records.is_empty() && records.len() <= 3, "{page}");
        seen.extend(records.iter().map(|r| r["fields"]["n"].as_i64().unwrap()));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/submissions?limit=100&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(
        seen,
        [6, 5, 4, 3, 2, 1, 0],
        "every record once, newest first"
    );
}

#[tokio::test]
async fn pages_run_across_segments_and_survive_a_restart() {
    let env = [("INLET_STORE__SEGMENT_BYTES", "4096")];
    let app = spawn_app(&env).await;
    // About 190 bytes a record: twenty or so to a segment.
    for n in 0..120 {
        let body = format!(r#"{{"n":{n},"pad":"{}"}}"#, "x".repeat(100));
        assert_eq!(app.post("application/json", body).await.status(), 200);
    }
    let segments = inlet_forms::store::segment_files(&app.forms_dir()).unwrap();
    assert!(segments.len() >= 5, "{} segments", segments.len());
    let scrape = scrape_at(&app.url("")).await;
    assert_eq!(
        value(&scrape, "inlet_forms_journal_segments", &[]),
        segments.len() as f64,
        "the gauge counts the segment files"
    );
    let newest_first: Vec<i64> = (0..120).rev().collect();
    assert_eq!(all_pages(&app, 13).await, newest_first);

    let dir = app.stop().await;
    let app = spawn_in(dir, &env).await;
    assert_eq!(
        all_pages(&app, 13).await,
        newest_first,
        "the same after a restart"
    );
    assert_eq!(app.journal_text().lines().count(), 120);
}

/// Every record's `n`, newest first, following cursors in pages of `limit`.
async fn all_pages(app: &TestApp, limit: usize) -> Vec<i64> {
    let mut seen = Vec::new();
    let mut path = format!("/submissions?limit={limit}");
    loop {
        let page = app.get_json(&path).await;
        let records = page["submissions"].as_array().unwrap();
        assert!(!records.is_empty() && records.len() <= limit, "{page}");
        seen.extend(records.iter().map(|r| r["fields"]["n"].as_i64().unwrap()));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/submissions?limit={limit}&cursor={cursor}"),
            None => return seen,
        }
    }
}

#[tokio::test]
async fn a_record_larger_than_the_page_budget_still_gets_a_page_of_its_own() {
    let app = spawn_app(&[("INLET_LIMITS__MAX_PAGE_BYTES", "64")]).await;
    for n in 0..2 {
        let body = format!(r#"{{"n":{n},"pad":"{}"}}"#, "x".repeat(100));
        assert_eq!(app.post("application/json", body).await.status(), 200);
    }
    let first = app.get_json("/submissions").await;
    assert_eq!(first["submissions"].as_array().unwrap().len(), 1);
    assert_eq!(first["submissions"][0]["fields"]["n"], 1);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = app.get_json(&format!("/submissions?cursor={cursor}")).await;
    assert_eq!(second["submissions"][0]["fields"]["n"], 0);
    assert!(second["next_cursor"].is_null());
}

#[tokio::test]
async fn the_default_page_size_comes_from_config() {
    let app = spawn_app(&[("INLET_LIMITS__DEFAULT_LIST_LIMIT", "2")]).await;
    for n in 0..3 {
        app.post("application/json", format!(r#"{{"n":{n}}}"#))
            .await;
    }
    let page = app.get_json("/submissions").await;
    assert_eq!(page["submissions"].as_array().unwrap().len(), 2);
    assert!(page["next_cursor"].is_string());
}

#[tokio::test]
async fn bad_list_parameters_are_400() {
    let app = spawn_app(&[("INLET_LIMITS__MAX_LIST_LIMIT", "10")]).await;
    for query in [
        "limit=0",
        "limit=11",
        "limit=abc",
        "cursor=xyz",
        "limit=abc&x=%FF",
        "x=%FF",
        "limit=5&limit=6",
    ] {
        let res = app
            .client
            .get(app.url(&format!("/submissions?{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{query}");
    }
    let res = app
        .client
        .get(app.url("/submissions?limit=10"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_torn_last_line_is_cut_off_at_start_up() {
    let app = spawn_app(&[]).await;
    app.post("application/json", r#"{"kept":true}"#).await;
    // What a crash in the middle of a write leaves behind.
    let app = restart_after_appending(app, br#"{"id":"torn","fields":{"a""#).await;
    assert_eq!(app.stored().len(), 1, "torn record removed from the file");
    app.post("application/json", r#"{"after":true}"#).await;
    let stored = app.stored();
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[1]["fields"]["after"], true);
}

#[tokio::test]
async fn a_complete_line_that_is_not_json_is_kept_in_the_file_but_not_served() {
    let app = spawn_app(&[]).await;
    app.post("application/json", r#"{"n":1}"#).await;
    let journal = app.last_segment();
    let app = restart_after_appending(app, b"edited by hand\n").await;
    app.post("application/json", r#"{"n":2}"#).await;
    let text = std::fs::read_to_string(&journal).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(
        lines[1], "edited by hand",
        "the bad line stays for inspection"
    );
    let page = app.get_json("/submissions").await;
    let served: Vec<&serde_json::Value> = page["submissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["fields"]["n"])
        .collect();
    assert_eq!(
        served,
        [2, 1],
        "only the JSON records are served, newest first"
    );
}

/// Stops `app`, appends `bytes` to its journal as a crash or a person might,
/// and starts it again on the same data.
async fn restart_after_appending(app: TestApp, bytes: &[u8]) -> TestApp {
    let journal = app.last_segment();
    let dir = app.stop().await;
    std::fs::OpenOptions::new()
        .append(true)
        .open(&journal)
        .unwrap()
        .write_all(bytes)
        .unwrap();
    spawn_in(dir, &[]).await
}

/// How many fdatasyncs the journal has done, from `/metrics`.
async fn fsyncs(app: &TestApp) -> u64 {
    let scrape = scrape_at(&app.url("")).await;
    value(
        &scrape,
        "inlet_forms_journal_fsync_duration_seconds_count",
        &[],
    ) as u64
}

#[tokio::test]
async fn with_sync_always_every_batch_is_fsynced_before_its_answer() {
    let app = spawn_app(&[]).await;
    for n in 0..5 {
        app.post("application/json", format!("{n}")).await;
    }
    // Sequential posts: one batch, so one fsync, each.
    assert_eq!(fsyncs(&app).await, 5);
}

#[tokio::test]
async fn with_sync_interval_posts_are_answered_before_the_fsync_that_follows() {
    // An interval no test waits out: no fsync may come before the answers.
    let app = spawn_app(&[
        ("INLET_STORE__SYNC", "interval"),
        ("INLET_STORE__SYNC_INTERVAL_MS", "600000"),
    ])
    .await;
    for n in 0..20 {
        assert_eq!(
            app.post("application/json", format!("{n}")).await.status(),
            200
        );
    }
    assert_eq!(fsyncs(&app).await, 0, "answered without waiting for a sync");
    assert_eq!(app.stored().len(), 20, "written to the file all the same");
    // A clean stop syncs what is left, and a restart finds everything.
    let dir = app.stop().await;
    let app = spawn_in(dir, &[]).await;
    let page = app.get_json("/submissions?limit=100").await;
    assert_eq!(page["submissions"].as_array().unwrap().len(), 20);
}

#[tokio::test]
async fn with_sync_interval_the_syncer_catches_up_without_more_posts() {
    let app = spawn_app(&[
        ("INLET_STORE__SYNC", "interval"),
        ("INLET_STORE__SYNC_INTERVAL_MS", "50"),
    ])
    .await;
    for n in 0..10 {
        app.post("application/json", format!("{n}")).await;
    }
    let synced = tokio::time::timeout(inlet_testkit::WAIT, async {
        while fsyncs(&app).await == 0 {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(synced.is_ok(), "the syncer ran within the interval");
    // Far fewer fsyncs than posts: they are batched by time.
    assert!(fsyncs(&app).await < 10);
}

#[tokio::test]
async fn an_unknown_sync_mode_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let pairs = vec![
        (
            "INLET_DATA_DIR".to_string(),
            dir.path().display().to_string(),
        ),
        ("INLET_STORE__SYNC".to_string(), "sometimes".to_string()),
    ];
    let err = inlet_common::config::load::<inlet_forms::config::FormsConfig>(
        &inlet_common::config::ConfigSource::from_pairs(pairs),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("store.sync") || err.contains("sometimes"),
        "{err}"
    );
}
