//! What forms counts, in the service's registry (names in docs/forms.md).

use inlet_common::metrics::Metrics;
use inlet_http::refused::RefusalMetric;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};

/// Which kind of body a stored submission had.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ContentType {
    /// `application/x-www-form-urlencoded` or `application/json`.
    pub content_type: &'static str,
}

/// Submissions refused, by reason (counted by `inlet_http::refused`).
pub const REFUSED: RefusalMetric = RefusalMetric {
    name: "inlet_forms_submissions_refused",
    help: "Submissions refused, by reason (the error code)",
    what: "submission",
};

/// The request side: what was stored and what was refused.
#[derive(Debug, Clone)]
pub struct FormsMetrics {
    /// Submissions made durable, by content type.
    pub stored: Family<ContentType, Counter>,
    /// Bytes of the in-flight body budget reserved now.
    pub inflight_bytes: Gauge,
    /// Body bytes read from clients.
    pub body_bytes: Counter,
}

/// The journal writer's side.
#[derive(Debug, Clone)]
pub struct JournalMetrics {
    /// Records per group commit.
    pub batch_size: Histogram,
    /// Time to write and fdatasync one group commit.
    pub fsync_seconds: Histogram,
    /// Records waiting for the writer.
    pub queue_depth: Gauge,
    /// Segment files the journal has.
    pub segments: Gauge,
}

impl FormsMetrics {
    /// Creates forms' metrics and registers them in `metrics`.
    pub fn register(metrics: &Metrics) -> (Self, JournalMetrics) {
        let requests = Self {
            stored: Family::default(),
            inflight_bytes: Gauge::default(),
            body_bytes: Counter::default(),
        };
        let journal = JournalMetrics {
            // 1 to 1024 records.
            batch_size: Histogram::new(exponential_buckets(1.0, 2.0, 11)),
            // 50 µs to about 1.6 s.
            fsync_seconds: Histogram::new(exponential_buckets(0.00005, 2.0, 16)),
            queue_depth: Gauge::default(),
            segments: Gauge::default(),
        };
        metrics.register(
            "inlet_forms_submissions_stored",
            "Submissions made durable, by content type",
            requests.stored.clone(),
        );
        metrics.register(
            "inlet_forms_inflight_body_bytes",
            "Bytes of the in-flight body budget (limits.max_inflight_body_bytes) reserved now",
            requests.inflight_bytes.clone(),
        );
        metrics.register(
            "inlet_forms_body_bytes_received",
            "Request body bytes read from clients (of posts, refused ones included)",
            requests.body_bytes.clone(),
        );
        metrics.register(
            "inlet_forms_journal_batch_size",
            "Records written and fsync'd together in one group commit",
            journal.batch_size.clone(),
        );
        metrics.register(
            "inlet_forms_journal_fsync_duration_seconds",
            "Time to write and fdatasync one group commit",
            journal.fsync_seconds.clone(),
        );
        metrics.register(
            "inlet_forms_journal_queue_depth",
            "Submissions waiting for the journal writer",
            journal.queue_depth.clone(),
        );
        metrics.register(
            "inlet_forms_journal_segments",
            "Segment files of the journal (a new one starts at store.segment_bytes)",
            journal.segments.clone(),
        );
        (requests, journal)
    }
}
