//! The forms sweep: retention drops expired submissions and compaction
//! erases deleted ones (rewriting journal segments, or vacuuming the
//! PostgreSQL table), at start-up and every `store.sweep_interval`.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use inlet_common::publish::{event, event_now, Publisher, SubmissionsExpired};
use inlet_common::retention::{Reason, RemovalMetrics};

use crate::state::Store;
use crate::store::{Expired, RetentionPolicy, StoreError, SubmissionStore};

/// What a sweep needs.
pub struct Sweep {
    /// The submission store.
    pub store: Arc<Store>,
    /// What retention keeps.
    pub policy: RetentionPolicy,
    /// How long deletions wait to be erased.
    pub compact_after: Duration,
    /// Counts what goes.
    pub removals: RemovalMetrics,
    /// Announces expiries.
    pub publisher: Publisher,
}

impl Sweep {
    /// One sweep as of `now`: drop what the policy no longer keeps, then
    /// erase deletions older than `compact_after`. Failures are logged;
    /// the next sweep tries again.
    pub async fn run(&self, now: SystemTime) {
        match self.store.expire(self.policy, now).await {
            Ok(expired) => self.report_expired(&expired),
            Err(err) => report_failure(&err, "retention sweep of the submission store failed"),
        }
        let due = now.checked_sub(self.compact_after).unwrap_or(now);
        match self.store.compact(due).await {
            Ok(done) if done.records > 0 => tracing::info!(
                erased = done.records,
                segments_rewritten = done.segments,
                bytes_freed = done.bytes,
                "erased deleted submissions from the store"
            ),
            Ok(_) => {}
            Err(err) => report_failure(&err, "erasing deleted submissions failed"),
        }
    }

    fn report_expired(&self, expired: &Expired) {
        if expired.records() == 0 && expired.segments == 0 {
            return;
        }
        tracing::info!(
            segments = expired.segments,
            by_age = expired.by_age.0,
            by_size = expired.by_size.0,
            bytes = expired.by_age.1 + expired.by_size.1,
            "retention dropped the oldest submissions"
        );
        let last_id = expired.last_id.unwrap_or_else(uuid::Uuid::nil);
        for (reason, (count, bytes)) in [
            (Reason::MaxAge, expired.by_age),
            (Reason::MaxBytes, expired.by_size),
        ] {
            if count == 0 && bytes == 0 {
                continue;
            }
            self.removals.count(reason, count, bytes);
            self.publisher.publish(event_now(
                last_id,
                "inlet-forms",
                event::Kind::SubmissionsExpired(SubmissionsExpired {
                    count,
                    last_submission_id: last_id.to_string(),
                    reason: reason.as_str().to_owned(),
                }),
            ));
        }
    }
}

/// A sweep that failed: a warning while the database is away (the next
/// sweep tries again), an error otherwise.
fn report_failure(err: &StoreError, what: &str) {
    if matches!(err, StoreError::Unavailable(_)) {
        tracing::warn!(error = %err, "{what}");
    } else {
        tracing::error!(error = %err, "{what}");
    }
}
