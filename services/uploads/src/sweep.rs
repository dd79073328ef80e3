//! The uploads sweep, at start-up and every `store.sweep_interval`: what
//! crashed uploads left is removed (in S3: open multipart uploads and
//! staging objects), then retention removes the oldest files.

use std::sync::Arc;
use std::time::SystemTime;

use inlet_common::publish::{event, event_now, FileDeleted, Publisher};
use inlet_common::retention::RemovalMetrics;

use crate::state::Store;
use crate::store::{FileStore, RetentionPolicy};

/// What a sweep needs.
pub struct Sweep {
    /// The file store.
    pub store: Arc<Store>,
    /// What retention keeps.
    pub policy: RetentionPolicy,
    /// Counts what goes.
    pub removals: RemovalMetrics,
    /// Announces each removed file.
    pub publisher: Publisher,
}

impl Sweep {
    /// One sweep as of `now`; a failure is logged and the next sweep tries again.
    pub async fn run(&self, now: SystemTime) {
        match self.store.tidy(now).await {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "removed what crashed uploads left behind"),
            Err(err) => {
                tracing::warn!(error = %err, "could not remove what crashed uploads left behind; the next sweep tries again")
            }
        }
        if self.policy.keeps_all() {
            return;
        }
        let removed = match self.store.expire(self.policy, now).await {
            Ok(removed) => removed,
            Err(err) => {
                if crate::store::StoreUnavailable::is_cause_of(&err) {
                    tracing::warn!(error = %err, "retention sweep skipped: the store is unreachable");
                } else {
                    tracing::error!(error = %err, "retention sweep of the uploads store failed");
                }
                return;
            }
        };
        if removed.is_empty() {
            return;
        }
        let bytes: u64 = removed.iter().map(|r| r.bytes).sum();
        tracing::info!(
            files = removed.len(),
            bytes,
            "retention removed the oldest files"
        );
        for expired in removed {
            self.removals.count(expired.reason, 1, expired.bytes);
            self.publisher.publish(event_now(
                uuid::Uuid::now_v7(),
                "inlet-uploads",
                event::Kind::FileDeleted(FileDeleted {
                    stored_name: expired.name,
                    reason: expired.reason.as_str().to_owned(),
                }),
            ));
        }
    }
}
