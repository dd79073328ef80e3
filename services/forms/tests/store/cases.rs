//! The cases: each takes a fresh backend and checks one promise of a store.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

use inlet_common::record::Stamp;
use inlet_forms::store::{Record, RetentionPolicy, StoreError, SubmissionStore};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::backends::{Backend, Opened};

const DAY: Duration = Duration::from_secs(86_400);

/// A stamp `age` ago: the id's time and `received_at` agree, as in a real one.
fn stamp_aged(age: Duration) -> Stamp {
    let at = SystemTime::now() - age;
    let since = at.duration_since(SystemTime::UNIX_EPOCH).unwrap();
    let id = Uuid::new_v7(uuid::Timestamp::from_unix(
        uuid::NoContext,
        since.as_secs(),
        since.subsec_nanos(),
    ));
    Stamp {
        id,
        received_at: OffsetDateTime::from(at),
    }
}

/// A record line with `marker` (and `padding` bytes of filler) in its fields.
fn line(stamp: &Stamp, marker: &str, padding: usize) -> Vec<u8> {
    let fields = format!(r#"{{"marker":"{marker}","pad":"{}"}}"#, "x".repeat(padding));
    Record {
        stamp,
        trace_id: Some("4bf92f3577b34da6a3ce929d0e0e4736"),
        size: fields.len() as u64,
        content_type: "application/json",
        client: Some("192.0.2.7".parse().unwrap()),
        fields: &fields,
    }
    .to_line()
}

/// Appends `n` records `age` old, marked `<prefix>-<i>`; gives their ids,
/// lines and sequence numbers, oldest first.
async fn fill(opened: &Opened, prefix: &str, n: usize, age: Duration) -> Vec<(Uuid, Vec<u8>, u64)> {
    let mut stored = Vec::new();
    for i in 0..n {
        let stamp = stamp_aged(age);
        let text = line(&stamp, &format!("{prefix}-{i:04}"), 100);
        let seq = opened.store.append(text.clone()).await.unwrap();
        stored.push((stamp.id, text, seq));
    }
    stored
}

/// Every record, page by page, newest first.
async fn read_all(opened: &Opened, limit: usize, max_bytes: u64) -> Vec<Vec<u8>> {
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = opened
            .store
            .plan_page(before, limit, max_bytes)
            .await
            .unwrap();
        assert!(
            !page.records.is_empty() || before.is_none(),
            "an empty page after a cursor"
        );
        for entry in page.records {
            seen.push(opened.store.read(entry).await.unwrap());
        }
        match page.next {
            Some(next) => before = Some(next),
            None => return seen,
        }
    }
}

/// Bytes a backend stores beside each record's text (the journal's newline).
fn backend_overhead(opened: &Opened) -> u64 {
    u64::from(opened.store.journal().is_some())
}

fn marker(text: &[u8]) -> String {
    let value: serde_json::Value = serde_json::from_slice(text).unwrap();
    value["fields"]["marker"].as_str().unwrap().to_owned()
}

pub async fn appends_get_rising_sequences_and_read_back_byte_for_byte(backend: Backend) {
    let opened = backend.open().await;
    let stored = fill(&opened, "a", 5, Duration::ZERO).await;
    let sequences: Vec<u64> = stored.iter().map(|(_, _, seq)| *seq).collect();
    assert!(sequences.windows(2).all(|w| w[0] < w[1]), "{sequences:?}");
    for (id, text, _) in &stored {
        assert_eq!(opened.store.find(*id).await.unwrap().as_ref(), Some(text));
    }
    assert_eq!(opened.store.find(Uuid::now_v7()).await.unwrap(), None);
    let newest_first: Vec<Vec<u8>> = stored
        .iter()
        .rev()
        .map(|(_, text, _)| text.clone())
        .collect();
    assert_eq!(read_all(&opened, 2, u64::MAX).await, newest_first);
    opened.close().await;
}

pub async fn concurrent_appends_get_distinct_sequences(backend: Backend) {
    let opened = backend.open().await;
    let appends = (0..200).map(|i| {
        let stamp = Stamp::now();
        let text = line(&stamp, &format!("c-{i:04}"), 10);
        let store = std::sync::Arc::clone(&opened.store);
        async move { (store.append(text).await.unwrap(), stamp.id) }
    });
    let done = futures_util::future::join_all(appends).await;
    let sequences: BTreeSet<u64> = done.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(
        sequences.len(),
        200,
        "every append has a sequence of its own"
    );
    for (_, id) in &done {
        assert!(opened.store.find(*id).await.unwrap().is_some());
    }
    assert_eq!(read_all(&opened, 1000, u64::MAX).await.len(), 200);
    opened.close().await;
}

pub async fn pages_run_newest_first_and_cursors_survive_new_records(backend: Backend) {
    let opened = backend.open().await;
    fill(&opened, "old", 6, Duration::ZERO).await;
    let first = opened.store.plan_page(None, 3, u64::MAX).await.unwrap();
    let cursor = first.next.expect("more than one page");
    let mut first_markers = Vec::new();
    for entry in first.records {
        first_markers.push(marker(&opened.store.read(entry).await.unwrap()));
    }
    assert_eq!(first_markers, ["old-0005", "old-0004", "old-0003"]);
    // Records that arrive meanwhile do not shift the next page.
    fill(&opened, "new", 4, Duration::ZERO).await;
    let second = opened
        .store
        .plan_page(Some(cursor), 3, u64::MAX)
        .await
        .unwrap();
    assert_eq!(second.next, None, "the last page says so");
    let mut second_markers = Vec::new();
    for entry in second.records {
        second_markers.push(marker(&opened.store.read(entry).await.unwrap()));
    }
    assert_eq!(second_markers, ["old-0002", "old-0001", "old-0000"]);
    opened.close().await;
}

pub async fn a_page_stops_before_its_byte_budget_but_never_empty(backend: Backend) {
    let opened = backend.open().await;
    let stored = fill(&opened, "b", 6, Duration::ZERO).await;
    let one = stored[0].1.len() as u64;
    // Room for two records and a half: pages of two.
    let budget = one * 5 / 2;
    let page = opened.store.plan_page(None, 100, budget).await.unwrap();
    assert_eq!(page.records.len(), 2);
    assert!(page.next.is_some());
    assert_eq!(read_all(&opened, 100, budget).await.len(), 6);
    // A budget smaller than any record still moves on, one at a time.
    let page = opened.store.plan_page(None, 100, 1).await.unwrap();
    assert_eq!(page.records.len(), 1);
    assert_eq!(read_all(&opened, 100, 1).await.len(), 6);
    opened.close().await;
}

pub async fn a_deleted_record_is_never_read_again(backend: Backend) {
    let opened = backend.open().await;
    let stored = fill(&opened, "d", 4, Duration::ZERO).await;
    let (gone, text, seq) = &stored[1];
    let removed = opened.store.delete(*gone, SystemTime::now()).await.unwrap();
    let removed = removed.expect("it was there");
    assert_eq!(removed.sequence, *seq);
    assert_eq!(removed.bytes, text.len() as u64 + backend_overhead(&opened));
    assert_eq!(
        opened.store.delete(*gone, SystemTime::now()).await.unwrap(),
        None
    );
    assert_eq!(opened.store.find(*gone).await.unwrap(), None);
    let markers: Vec<String> = read_all(&opened, 10, u64::MAX)
        .await
        .iter()
        .map(|t| marker(t))
        .collect();
    assert_eq!(markers, ["d-0003", "d-0002", "d-0000"]);
    // Erasing its bytes changes nothing a reader sees.
    let compacted = opened.store.compact(SystemTime::now() + DAY).await.unwrap();
    assert_eq!(compacted.records, 1);
    let after: Vec<String> = read_all(&opened, 10, u64::MAX)
        .await
        .iter()
        .map(|t| marker(t))
        .collect();
    assert_eq!(after, markers);
    assert_eq!(opened.store.find(*gone).await.unwrap(), None);
    opened.close().await;
}

pub async fn retention_by_age_drops_only_old_records_oldest_first(backend: Backend) {
    let opened = backend.open().await;
    let old = fill(&opened, "old", 60, 10 * DAY).await;
    let new = fill(&opened, "new", 10, Duration::ZERO).await;
    let policy = RetentionPolicy {
        max_age: Some(5 * DAY),
        max_bytes: None,
    };
    let expired = opened
        .store
        .expire(policy, SystemTime::now())
        .await
        .unwrap();
    let kept = read_all(&opened, 1000, u64::MAX).await;
    let dropped = old.len() + new.len() - kept.len();
    assert!(dropped > 0, "some old records go");
    assert_eq!(expired.by_age.0, dropped as u64);
    assert_eq!(expired.by_size, (0, 0));
    // What is left is the newest: every new record and the youngest old ones.
    let all: Vec<&Vec<u8>> = old.iter().chain(&new).map(|(_, text, _)| text).collect();
    let expected: Vec<Vec<u8>> = all[dropped..]
        .iter()
        .rev()
        .map(|text| text.to_vec())
        .collect();
    assert_eq!(kept, expected);
    assert_eq!(
        expired.last_id,
        Some(old[dropped - 1].0),
        "the newest of those dropped"
    );
    opened.close().await;
}

pub async fn retention_by_size_keeps_the_newest_within_the_budget(backend: Backend) {
    let opened = backend.open().await;
    let stored = fill(&opened, "s", 80, Duration::ZERO).await;
    let one = stored[0].1.len() as u64;
    let budget = one * 20;
    let policy = RetentionPolicy {
        max_age: None,
        max_bytes: Some(budget),
    };
    let expired = opened
        .store
        .expire(policy, SystemTime::now())
        .await
        .unwrap();
    let kept = read_all(&opened, 1000, u64::MAX).await;
    let kept_bytes: u64 = kept.iter().map(|t| t.len() as u64).sum();
    let slack = backend.size_slack();
    assert!(kept_bytes <= budget + slack, "{kept_bytes} over {budget}");
    assert!(
        kept_bytes + one + slack > budget,
        "more dropped than needed: {kept_bytes} of {budget}"
    );
    let dropped = stored.len() - kept.len();
    assert_eq!(expired.by_size.0, dropped as u64);
    let expected: Vec<Vec<u8>> = stored
        .iter()
        .skip(dropped)
        .rev()
        .map(|(_, t, _)| t.clone())
        .collect();
    assert_eq!(kept, expected, "the oldest go first");
    opened.close().await;
}

pub async fn records_and_sequences_survive_a_reopen(backend: Backend) {
    let opened = backend.open().await;
    let before = fill(&opened, "r", 5, Duration::ZERO).await;
    opened
        .store
        .delete(before[0].0, SystemTime::now())
        .await
        .unwrap();
    opened.close().await;
    let opened = backend.open().await;
    let after = fill(&opened, "r2", 1, Duration::ZERO).await;
    assert!(
        after[0].2 > before[4].2,
        "sequences go on from where they were"
    );
    let markers: Vec<String> = read_all(&opened, 100, u64::MAX)
        .await
        .iter()
        .map(|t| marker(t))
        .collect();
    assert_eq!(markers, ["r2-0000", "r-0004", "r-0003", "r-0002", "r-0001"]);
    assert_eq!(opened.store.find(before[0].0).await.unwrap(), None);
    opened.close().await;
}

pub async fn a_closed_store_refuses_appends(backend: Backend) {
    let opened = backend.open().await;
    fill(&opened, "x", 1, Duration::ZERO).await;
    let store = std::sync::Arc::clone(&opened.store);
    opened.close().await;
    assert!(!store.is_taking_writes());
    let stamp = Stamp::now();
    let refused = store.append(line(&stamp, "late", 1)).await;
    assert!(
        matches!(refused, Err(StoreError::Closed | StoreError::Stopped(_))),
        "{refused:?}"
    );
}
