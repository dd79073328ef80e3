//! Deletion, compaction and retention of the journal, with crash points:
//! whatever happens, every record not deleted stays, byte for byte, under
//! its sequence number, and a deleted one is never read again.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use inlet_common::metrics::Metrics;
use inlet_common::record::Stamp;
use uuid::Uuid;

use super::*;
use crate::metrics::FormsMetrics;

fn open(dir: &Path, segment_bytes: u64) -> (Arc<Journal>, JournalWriter) {
    let (_, metrics) = FormsMetrics::register(&Metrics::new());
    let settings = JournalSettings {
        max_batch: 16,
        queue_depth: 64,
        sync: SyncPolicy::Always,
        segment_bytes,
    };
    Journal::open(dir, settings, metrics).unwrap()
}

async fn stop(journal: Arc<Journal>, writer: JournalWriter) {
    journal.close().await;
    drop(journal);
    writer.join();
}

/// Appends `n` records, each with a marker of its own; returns their ids
/// and lines, oldest first.
async fn fill(journal: &Journal, n: usize) -> Vec<(Uuid, Vec<u8>)> {
    let mut stored = Vec::new();
    for i in 0..n {
        let stamp = Stamp::now();
        let fields = format!(r#"{{"marker":"needle-{i:04}-{}"}}"#, stamp.id.simple());
        let line = Record {
            stamp: &stamp,
            trace_id: None,
            size: fields.len() as u64,
            content_type: "application/json",
            client: None,
            fields: &fields,
        }
        .to_line();
        journal.append_anywhere(line.clone()).await.unwrap();
        stored.push((stamp.id, line));
    }
    stored
}

/// Every record readable through pages, newest first, with the cursor that
/// leads to it (`before` = its sequence + 1).
async fn read_all(journal: &Journal, limit: usize) -> Vec<Vec<u8>> {
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let plan = journal.plan_page(before, limit, u64::MAX).await.unwrap();
        for entry in plan.records {
            seen.push(journal.read(entry).await.unwrap());
        }
        match plan.next {
            Some(next) => before = Some(next),
            None => return seen,
        }
    }
}

fn marker_of(line: &[u8]) -> String {
    let value: serde_json::Value = serde_json::from_slice(line).unwrap();
    value["fields"]["marker"].as_str().unwrap().to_owned()
}

fn later(days: u64) -> SystemTime {
    SystemTime::now() + Duration::from_secs(days * 86_400)
}

#[tokio::test]
async fn a_deleted_record_is_gone_from_every_read_at_once_and_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (journal, writer) = open(dir.path(), 1024);
    let stored = fill(&journal, 20).await;
    let (victim, _) = stored[7];
    let removed = journal.delete(victim, SystemTime::now()).await.unwrap();
    assert_eq!(removed.map(|r| r.sequence), Some(7));
    assert_eq!(journal.find(victim).await.unwrap(), None);
    assert_eq!(
        journal.delete(victim, SystemTime::now()).await.unwrap(),
        None,
        "a second delete finds nothing"
    );
    assert_eq!(
        journal
            .delete(Stamp::now().id, SystemTime::now())
            .await
            .unwrap(),
        None
    );
    let expected: Vec<Vec<u8>> = stored
        .iter()
        .rev()
        .filter(|(id, _)| *id != victim)
        .map(|(_, line)| line.clone())
        .collect();
    // Pages of every size skip it and still reach the end.
    for limit in [1, 3, 7, 100] {
        assert_eq!(read_all(&journal, limit).await, expected, "limit {limit}");
    }
    stop(journal, writer).await;
    let (journal, writer) = open(dir.path(), 1024);
    assert_eq!(journal.find(victim).await.unwrap(), None);
    assert_eq!(read_all(&journal, 4).await, expected);
    stop(journal, writer).await;
}

#[tokio::test]
async fn compaction_erases_the_bytes_and_keeps_every_other_record_and_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let (journal, writer) = open(dir.path(), 1024);
    let stored = fill(&journal, 30).await;
    // One in a sealed segment, one in the segment being written.
    let victims = [stored[2].0, stored[29].0];
    let needles: Vec<String> = [2, 29].iter().map(|&i| marker_of(&stored[i].1)).collect();
    let cursor_before = journal.plan_page(Some(20), 5, u64::MAX).await.unwrap();
    let page_before: Vec<Vec<u8>> = {
        let mut page = Vec::new();
        for entry in cursor_before.records {
            page.push(journal.read(entry).await.unwrap());
        }
        page
    };
    for victim in victims {
        journal
            .delete(victim, SystemTime::now())
            .await
            .unwrap()
            .unwrap();
    }
    for needle in &needles {
        assert!(
            !inlet_testkit::files::containing(dir.path(), needle).is_empty(),
            "still on disk before compaction"
        );
    }
    // Not due yet: a compaction of deletions made before an hour ago erases nothing.
    let early = journal
        .compact(SystemTime::now() - Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!(early, Compacted::default());
    let done = journal.compact(SystemTime::now()).await.unwrap();
    assert_eq!(done.records, 2, "{done:?}");
    for needle in &needles {
        assert_eq!(
            inlet_testkit::files::containing(dir.path(), needle),
            Vec::<String>::new(),
            "{needle}"
        );
    }
    // Every other record, byte for byte, and the same page behind the same cursor.
    let others: Vec<Vec<u8>> = stored
        .iter()
        .rev()
        .filter(|(id, _)| !victims.contains(id))
        .map(|(_, line)| line.clone())
        .collect();
    assert_eq!(read_all(&journal, 4).await, others);
    let cursor_after = journal.plan_page(Some(20), 5, u64::MAX).await.unwrap();
    let mut page_after = Vec::new();
    for entry in cursor_after.records {
        page_after.push(journal.read(entry).await.unwrap());
    }
    assert_eq!(page_after, page_before);
    // Nothing left to do, and appends carry on with the next sequence number.
    assert_eq!(
        journal.compact(SystemTime::now()).await.unwrap(),
        Compacted::default()
    );
    let seq = journal.append_anywhere(stored[0].1.clone()).await.unwrap();
    assert_eq!(seq, 30);
    stop(journal, writer).await;
    let (journal, writer) = open(dir.path(), 1024);
    let mut expected = vec![stored[0].1.clone()];
    expected.extend(others);
    assert_eq!(read_all(&journal, 6).await, expected);
    stop(journal, writer).await;
}

#[tokio::test]
async fn a_crash_at_any_point_of_a_compaction_loses_nothing_and_shows_nothing_deleted() {
    for point in [
        CrashPoint::CopyWritten,
        CrashPoint::OldIndexRemoved,
        CrashPoint::DataReplaced,
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (journal, writer) = open(dir.path(), 1024);
        let stored = fill(&journal, 20).await;
        let victim = stored[3].0;
        let needle = marker_of(&stored[3].1);
        journal
            .delete(victim, SystemTime::now())
            .await
            .unwrap()
            .unwrap();
        journal.crash_at(point);
        assert!(
            journal.compact(SystemTime::now()).await.is_err(),
            "{point:?}"
        );
        // The process dies here: the files stay as they are.
        stop(journal, writer).await;
        let (journal, writer) = open(dir.path(), 1024);
        let others: Vec<Vec<u8>> = stored
            .iter()
            .rev()
            .filter(|(id, _)| *id != victim)
            .map(|(_, line)| line.clone())
            .collect();
        assert_eq!(read_all(&journal, 5).await, others, "{point:?}");
        assert_eq!(journal.find(victim).await.unwrap(), None, "{point:?}");
        let leftovers: Vec<_> = inlet_testkit::files::under(dir.path())
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "copy"))
            .collect();
        assert!(leftovers.is_empty(), "{point:?}: {leftovers:?}");
        // The next compaction finishes the job.
        journal.compact(SystemTime::now()).await.unwrap();
        assert!(
            inlet_testkit::files::containing(dir.path(), &needle).is_empty(),
            "{point:?}"
        );
        assert_eq!(read_all(&journal, 5).await, others, "{point:?}");
        stop(journal, writer).await;
    }
}

#[tokio::test]
async fn retention_by_age_drops_whole_sealed_segments_and_cursors_hold() {
    let dir = tempfile::tempdir().unwrap();
    let (journal, writer) = open(dir.path(), 1024);
    let stored = fill(&journal, 25).await;
    let segments = segment_files(dir.path()).unwrap().len();
    assert!(segments >= 4, "{segments}");
    let week = RetentionPolicy {
        max_age: Some(Duration::from_secs(7 * 86_400)),
        max_bytes: None,
    };
    // Nothing is a week old yet.
    let none = journal.expire(week, SystemTime::now()).await.unwrap();
    assert_eq!(none, Expired::default());
    // Eight days on, every sealed segment goes; the one being written stays.
    let cursor = journal.plan_page(None, 1, u64::MAX).await.unwrap().next;
    let expired = journal.expire(week, later(8)).await.unwrap();
    assert_eq!(expired.segments, segments - 1, "{expired:?}");
    let kept = read_all(&journal, 3).await;
    assert_eq!(kept.len() as u64, 25 - expired.records());
    let newest: Vec<Vec<u8>> = stored
        .iter()
        .rev()
        .take(kept.len())
        .map(|(_, l)| l.clone())
        .collect();
    assert_eq!(kept, newest);
    assert_eq!(expired.last_id, Some(stored[25 - kept.len() - 1].0));
    assert_eq!(segment_files(dir.path()).unwrap().len(), 1);
    // A cursor from before still means the same place.
    let plan = journal.plan_page(cursor, 100, u64::MAX).await.unwrap();
    assert_eq!(plan.records.len(), kept.len() - 1);
    // A restart keeps the sequence numbers.
    stop(journal, writer).await;
    let (journal, writer) = open(dir.path(), 1024);
    assert_eq!(
        journal.append_anywhere(stored[0].1.clone()).await.unwrap(),
        25
    );
    assert_eq!(read_all(&journal, 3).await.len(), kept.len() + 1);
    stop(journal, writer).await;
}

#[tokio::test]
async fn retention_by_size_drops_the_oldest_until_the_journal_fits() {
    let dir = tempfile::tempdir().unwrap();
    let (journal, writer) = open(dir.path(), 1024);
    fill(&journal, 40).await;
    let size = |dir: &Path| -> u64 {
        inlet_testkit::files::under(&dir.join(JOURNAL_DIR))
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "jsonl" || e == "idx"))
            .map(|p| std::fs::metadata(p).unwrap().len())
            .sum()
    };
    let before = size(dir.path());
    let limit = before / 2;
    let policy = RetentionPolicy {
        max_age: None,
        max_bytes: Some(limit),
    };
    let expired = journal.expire(policy, SystemTime::now()).await.unwrap();
    assert!(
        expired.by_size.0 > 0 && expired.by_age.0 == 0,
        "{expired:?}"
    );
    assert!(size(dir.path()) <= limit, "{} > {limit}", size(dir.path()));
    assert_eq!(
        read_all(&journal, 7).await.len() as u64,
        40 - expired.records()
    );
    stop(journal, writer).await;
}

#[tokio::test]
async fn a_crash_while_dropping_segments_finishes_the_drop_at_start_up() {
    for point in [CrashPoint::FirstKeptWritten, CrashPoint::SegmentRemoved] {
        let dir = tempfile::tempdir().unwrap();
        let (journal, writer) = open(dir.path(), 1024);
        let stored = fill(&journal, 25).await;
        // A deletion in a segment that goes, and one in the segment that stays.
        journal
            .delete(stored[0].0, SystemTime::now())
            .await
            .unwrap()
            .unwrap();
        journal
            .delete(stored[24].0, SystemTime::now())
            .await
            .unwrap()
            .unwrap();
        let policy = RetentionPolicy {
            max_age: Some(Duration::from_secs(86_400)),
            max_bytes: None,
        };
        journal.crash_at(point);
        assert!(journal.expire(policy, later(2)).await.is_err(), "{point:?}");
        stop(journal, writer).await;
        let (journal, writer) = open(dir.path(), 1024);
        assert_eq!(segment_files(dir.path()).unwrap().len(), 1, "{point:?}");
        // What is left is the newest records but the deleted one, as stored.
        let kept = read_all(&journal, 100).await;
        let newest: Vec<Vec<u8>> = stored[..24]
            .iter()
            .rev()
            .take(kept.len())
            .map(|(_, line)| line.clone())
            .collect();
        assert_eq!(kept, newest, "{point:?}");
        assert_eq!(journal.find(stored[24].0).await.unwrap(), None, "{point:?}");
        assert_eq!(journal.find(stored[0].0).await.unwrap(), None, "{point:?}");
        let seq = journal.append_anywhere(stored[1].1.clone()).await.unwrap();
        assert_eq!(seq, 25, "{point:?}");
        stop(journal, writer).await;
    }
}
