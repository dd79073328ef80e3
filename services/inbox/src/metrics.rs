//! What the inbox counts, in its registry (names in docs/inbox.md).

use std::sync::atomic::AtomicU64;

use inlet_common::metrics::Metrics;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};

/// Which service a count is about.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Source {
    /// `forms`, `uploads`, `mail` or `gateway`.
    pub source: &'static str,
}

/// The inbox's metrics.
#[derive(Debug, Clone)]
pub struct InboxMetrics {
    /// Items in the index.
    pub items: Gauge,
    /// Bytes of the index on disk.
    pub index_bytes: Gauge<u64, AtomicU64>,
    /// Time to answer one search (or list page) from the index.
    pub search_seconds: Histogram,
    /// Time from an event's publication to the inbox having it indexed.
    pub feed_lag_seconds: Histogram,
    /// Feed events handled.
    pub feed_events: Counter,
    /// Items written to the index by listing the services.
    pub listed_items: Family<Source, Counter>,
    /// Full walks of every list (at start-up when the index is new, and
    /// every `inbox.reconcile_interval`).
    pub rebuilds: Counter,
    /// Requests to a service that failed.
    pub source_errors: Family<Source, Counter>,
    /// Pages following the live list now.
    pub live_pages: Gauge,
}

impl InboxMetrics {
    /// Creates the metrics and registers them in `metrics`.
    pub fn register(metrics: &Metrics) -> Self {
        let inbox = Self {
            items: Gauge::default(),
            index_bytes: Gauge::default(),
            // 100 µs to about 3 s.
            search_seconds: Histogram::new(exponential_buckets(0.0001, 2.0, 15)),
            // 1 ms to about 33 s.
            feed_lag_seconds: Histogram::new(exponential_buckets(0.001, 2.0, 16)),
            feed_events: Counter::default(),
            listed_items: Family::default(),
            rebuilds: Counter::default(),
            source_errors: Family::default(),
            live_pages: Gauge::default(),
        };
        metrics.register(
            "inlet_inbox_items",
            "Items in the search index",
            inbox.items.clone(),
        );
        metrics.register(
            "inlet_inbox_index_bytes",
            "Bytes the search index takes on disk",
            inbox.index_bytes.clone(),
        );
        metrics.register(
            "inlet_inbox_search_seconds",
            "Time to answer one search or list page from the index",
            inbox.search_seconds.clone(),
        );
        metrics.register(
            "inlet_inbox_feed_lag_seconds",
            "Time from an event's publication to its item being in the index",
            inbox.feed_lag_seconds.clone(),
        );
        metrics.register(
            "inlet_inbox_feed_events",
            "Events taken from the gateway's feed",
            inbox.feed_events.clone(),
        );
        metrics.register(
            "inlet_inbox_listed_items",
            "Items written to the index from the services' lists, by source",
            inbox.listed_items.clone(),
        );
        metrics.register(
            "inlet_inbox_rebuilds",
            "Full walks of every service's list",
            inbox.rebuilds.clone(),
        );
        metrics.register(
            "inlet_inbox_source_errors",
            "Requests to a service that failed, by source",
            inbox.source_errors.clone(),
        );
        metrics.register(
            "inlet_inbox_live_pages",
            "Pages following the live list now",
            inbox.live_pages.clone(),
        );
        inbox
    }
}
