//! The mail sweep: retention removes the oldest messages of each mailbox,
//! at start-up and every `mail.sweep_interval`.

use std::time::SystemTime;

use inlet_common::publish::{event, event_now, MailDeleted, Publisher};
use inlet_common::retention::{at_low_priority, RemovalMetrics};

use crate::messages::{MailFolder, MailRetention};

/// What a sweep needs.
pub struct Sweep {
    /// The mailboxes.
    pub folder: MailFolder,
    /// What retention keeps.
    pub policy: MailRetention,
    /// Counts what goes.
    pub removals: RemovalMetrics,
    /// Announces each removed message.
    pub publisher: Publisher,
}

impl Sweep {
    /// One sweep as of `now`; a failure is logged and the next sweep tries again.
    pub async fn run(&self, now: SystemTime) {
        if self.policy.keeps_all() {
            return;
        }
        let (folder, policy) = (self.folder.clone(), self.policy);
        let removed = match at_low_priority(move || folder.expire(policy, now)).await {
            Ok(Ok(removed)) => removed,
            Ok(Err(err)) => {
                tracing::error!(error = %err, "retention sweep of the mailboxes failed");
                return;
            }
            Err(err) => {
                tracing::error!(error = %err, "retention sweep of the mailboxes stopped");
                return;
            }
        };
        if removed.is_empty() {
            return;
        }
        let bytes: u64 = removed.iter().map(|(m, _)| m.size).sum();
        tracing::info!(
            messages = removed.len(),
            bytes,
            "retention removed the oldest messages"
        );
        for (message, reason) in removed {
            self.removals.count(reason, 1, message.size);
            self.publisher.publish(event_now(
                uuid::Uuid::now_v7(),
                "inlet-smtp",
                event::Kind::MailDeleted(MailDeleted {
                    message_id: message.id,
                    mailbox: message.mailbox,
                    reason: reason.as_str().to_owned(),
                }),
            ));
        }
    }
}
