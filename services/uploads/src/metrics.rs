//! What uploads counts, in the service's registry (names in docs/uploads.md).

use std::time::Duration;

use inlet_common::metrics::Metrics;
use inlet_http::refused::RefusalMetric;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};

/// How a file arrived.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Method {
    /// `multipart` or `put`.
    pub method: &'static str,
}

/// Upload requests refused, by reason (counted by `inlet_http::refused`).
pub const REFUSED: RefusalMetric = RefusalMetric {
    name: "inlet_uploads_requests_refused",
    help: "Upload requests refused (nothing kept), by reason (the error code)",
    what: "upload",
};

/// Uploads' own metrics.
#[derive(Debug, Clone)]
pub struct UploadsMetrics {
    /// Body bytes received by upload endpoints, whether kept or not.
    pub bytes_received: Counter,
    /// Files made durable, by how they arrived.
    pub stored: Family<Method, Counter>,
    /// Time from the first body byte to the answer of a stored upload.
    pub duration: Histogram,
    /// Temporary files being written now.
    pub in_flight: Gauge,
    /// Background flushes of the uploads filesystem (`store.sync = "interval"`).
    pub interval_flushes: Counter,
}

impl UploadsMetrics {
    /// Creates uploads' metrics and registers them in `metrics`.
    pub fn register(metrics: &Metrics) -> Self {
        let this = Self {
            bytes_received: Counter::default(),
            stored: Family::default(),
            // 1 ms to about 9 minutes.
            duration: Histogram::new(exponential_buckets(0.001, 2.0, 20)),
            in_flight: Gauge::default(),
            interval_flushes: Counter::default(),
        };
        metrics.register(
            "inlet_uploads_received_bytes",
            "Body bytes received by the upload endpoints, kept or not",
            this.bytes_received.clone(),
        );
        metrics.register(
            "inlet_uploads_files_stored",
            "Files made durable, by how they arrived (multipart or put)",
            this.stored.clone(),
        );
        metrics.register(
            "inlet_uploads_upload_duration_seconds",
            "Time to receive and store one upload request that was kept",
            this.duration.clone(),
        );
        metrics.register(
            "inlet_uploads_incoming_files",
            "Temporary files being written now",
            this.in_flight.clone(),
        );
        metrics.register(
            "inlet_uploads_interval_flushes",
            "Background flushes of the uploads filesystem (store.sync = interval)",
            this.interval_flushes.clone(),
        );
        this
    }

    /// Counts a stored request's files and time.
    pub fn stored(&self, method: &'static str, files: usize, took: Duration) {
        self.stored
            .get_or_create(&Method { method })
            .inc_by(files as u64);
        self.duration.observe(took.as_secs_f64());
    }
}
