//! What smtp counts, in the service's registry (names in the docs).

use inlet_common::metrics::Metrics;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};

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

/// What deliveries count.
#[derive(Debug, Clone)]
pub struct DeliveryMetrics {
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

impl DeliveryMetrics {
    /// Creates the delivery metrics and registers them in `metrics`.
    pub fn register(metrics: &Metrics) -> Self {
        let this = Self {
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
            "Messages stored in every recipient's Maildir",
            this.messages_stored.clone(),
        );
        metrics.register(
            "inlet_smtp_copies_stored",
            "Maildir copies stored (one per recipient)",
            this.copies_stored.clone(),
        );
        metrics.register(
            "inlet_smtp_stored_bytes",
            "Body bytes of stored messages",
            this.bytes_stored.clone(),
        );
        metrics.register(
            "inlet_smtp_messages_refused",
            "Messages refused after DATA, by reason",
            this.refused.clone(),
        );
        metrics.register(
            "inlet_smtp_refusals",
            "Refusals by SMTP reply code (550 no mailbox, 452 too many recipients, 552 too large)",
            this.refusals.clone(),
        );
        metrics.register(
            "inlet_smtp_commit_duration_seconds",
            "Time to make every copy of a message durable",
            this.commit_seconds.clone(),
        );
        this
    }
}

/// Session counts, in the service's registry.
#[derive(Debug, Clone, Default)]
pub struct SessionMetrics {
    /// Sessions open now.
    pub open: Gauge,
    /// Sessions served.
    pub total: Counter,
    /// Connections answered 421 for lack of a session slot.
    pub turned_away: Counter,
}

impl SessionMetrics {
    /// Creates the session metrics and registers them in `metrics`.
    pub fn register(metrics: &Metrics) -> Self {
        let this = Self::default();
        metrics.register(
            "inlet_smtp_sessions_open",
            "SMTP sessions open now",
            this.open.clone(),
        );
        metrics.register(
            "inlet_smtp_sessions",
            "SMTP sessions served",
            this.total.clone(),
        );
        metrics.register(
            "inlet_smtp_sessions_turned_away",
            "Connections answered 421 because smtp.max_sessions were open",
            this.turned_away.clone(),
        );
        this
    }
}
