//! What follows a stored message: its log line, its metrics, and its
//! `MailReceived` event on the feed (after every copy is on disk).

use std::path::{Path, PathBuf};

use inlet_common::publish::{event, new_event, MailReceived, Publisher};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};

use crate::mailbox::Mailbox;
use crate::maildir::{header_safe, DeliveryError, Envelope};

/// One message on its way in.
#[derive(Debug)]
pub struct Message {
    /// Sender, client, id, time.
    pub envelope: Envelope,
    /// Its accepted recipients.
    pub recipients: Vec<Mailbox>,
    /// Body bytes, as stored.
    pub size: u64,
}

/// Why a message was refused: its reason.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Reason {
    /// `too_large`, `disk_full` or `store_failed`.
    pub reason: &'static str,
}

/// A refusal's SMTP reply code.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReplyCode {
    /// E.g. `550`.
    pub code: u16,
}

/// Counts, logs and publishes deliveries.
#[derive(Debug, Clone)]
pub struct Delivered {
    publisher: Publisher,
    /// Messages stored (each once, whatever its recipient count).
    pub messages_stored: Counter,
    /// Copies stored (one per recipient).
    pub copies_stored: Counter,
    /// Body bytes stored (once per message).
    pub bytes_stored: Counter,
    /// Messages refused at the final dot, by reason.
    pub refused: Family<Reason, Counter>,
    /// Refusals by reply code (a recipient, a declared size, a body).
    pub refusals: Family<ReplyCode, Counter>,
    /// Time from the final dot to the 250 (every copy fsync'd and named).
    pub commit_seconds: Histogram,
}

impl Delivered {
    /// Creates the delivery metrics in `metrics`; events go to `publisher`.
    pub fn register(metrics: &inlet_common::metrics::Metrics, publisher: Publisher) -> Self {
        let this = Self {
            publisher,
            messages_stored: Counter::default(),
            copies_stored: Counter::default(),
            bytes_stored: Counter::default(),
            refused: Family::default(),
            refusals: Family::default(),
            // 0.1 ms to about 3 s.
            commit_seconds: Histogram::new(exponential_buckets(0.0001, 2.0, 15)),
        };
        metrics.register(
            "inlet_smtp_messages_stored",
            "Messages stored in every recipient's Maildir.",
            this.messages_stored.clone(),
        );
        metrics.register(
            "inlet_smtp_copies_stored",
            "Maildir copies stored (one per recipient).",
            this.copies_stored.clone(),
        );
        metrics.register(
            "inlet_smtp_stored_bytes",
            "Body bytes of stored messages.",
            this.bytes_stored.clone(),
        );
        metrics.register(
            "inlet_smtp_messages_refused",
            "Messages refused after DATA, by reason.",
            this.refused.clone(),
        );
        metrics.register(
            "inlet_smtp_refusals",
            "Refusals by SMTP reply code (550 no mailbox, 452 too many recipients, 552 too large).",
            this.refusals.clone(),
        );
        metrics.register(
            "inlet_smtp_commit_duration_seconds",
            "Time to make every copy of a message durable.",
            this.commit_seconds.clone(),
        );
        this
    }

    /// A message is on disk in every copy: count, log and publish it.
    pub fn stored(&self, message: Message, paths: &[PathBuf], mail_root: &Path) {
        self.messages_stored.inc();
        self.copies_stored.inc_by(paths.len() as u64);
        self.bytes_stored.inc_by(message.size);
        let data_dir = mail_root.parent().unwrap_or(mail_root);
        let mailbox_paths: Vec<String> = paths
            .iter()
            .map(|p| p.strip_prefix(data_dir).unwrap_or(p).display().to_string())
            .collect();
        let sender = header_safe(&message.envelope.sender);
        let recipients: Vec<String> = message
            .recipients
            .iter()
            .map(|r| header_safe(&r.address))
            .collect();
        tracing::info!(
            id = %message.envelope.id,
            sender = %sender,
            recipients = recipients.len(),
            size = message.size,
            client.address = %message.envelope.client,
            "mail stored"
        );
        if self.publisher.is_enabled() {
            self.publisher.publish(new_event(
                uuid::Uuid::now_v7(),
                message.envelope.received_at,
                "inlet-smtp",
                event::Kind::MailReceived(MailReceived {
                    sender,
                    recipients,
                    size: message.size,
                    mailbox_paths,
                }),
            ));
        }
    }

    /// Counts a refusal answered `code`.
    pub fn refusal(&self, code: u16) {
        self.refusals.get_or_create(&ReplyCode { code }).inc();
    }

    /// A message could not be stored; nothing of it was kept.
    pub fn refused(&self, err: &DeliveryError) {
        let reason = err.reason();
        self.refused.get_or_create(&Reason { reason }).inc();
        self.refusal(err.reply_code());
        match err {
            DeliveryError::Io(_) => {
                tracing::error!(error = %err, "storing a message failed; nothing kept")
            }
            _ => tracing::info!(reason, error = %err, "message refused; nothing kept"),
        }
    }
}
