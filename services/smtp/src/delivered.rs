//! What follows a stored message: its log line, its metrics, and its
//! `MailReceived` event on the feed (after every copy is on disk).

use std::path::{Path, PathBuf};

use inlet_common::publish::{event, new_event, MailReceived, Publisher};

use crate::error::Reply;
use crate::mailbox::Mailbox;
use crate::maildir::{header_safe, DeliveryError, Envelope};
use crate::metrics::{DeliveryMetrics, Reason, ReplyCode};

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

/// Counts, logs and publishes deliveries.
#[derive(Debug, Clone)]
pub struct Delivered {
    publisher: Publisher,
    /// What is counted for `/metrics`.
    pub metrics: DeliveryMetrics,
}

impl Delivered {
    /// Counts into `metrics`; events go to `publisher`.
    pub fn new(metrics: DeliveryMetrics, publisher: Publisher) -> Self {
        Self { publisher, metrics }
    }

    /// A message is on disk in every copy: count, log and publish it.
    pub fn stored(&self, message: Message, paths: &[PathBuf], mail_root: &Path) {
        self.metrics.messages_stored.inc();
        self.metrics.copies_stored.inc_by(paths.len() as u64);
        self.metrics.bytes_stored.inc_by(message.size);
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
                    message_ids: paths
                        .iter()
                        .filter_map(|p| crate::messages::stored::id_of_path(p))
                        .collect(),
                }),
            ));
        }
    }

    /// Counts a refusal answered `reply`.
    pub fn refusal(&self, reply: &Reply) {
        self.metrics
            .refusals
            .get_or_create(&ReplyCode { code: reply.code() })
            .inc();
    }

    /// A message could not be stored; nothing of it was kept.
    pub fn refused(&self, err: &DeliveryError) {
        let reason = err.reason();
        self.metrics.refused.get_or_create(&Reason { reason }).inc();
        self.refusal(&Reply::not_stored(err));
        match err {
            DeliveryError::Io(_) => {
                tracing::error!(error = %err, "storing a message failed; nothing kept")
            }
            _ => tracing::info!(reason, error = %err, "message refused; nothing kept"),
        }
    }
}
