//! One metrics registry per service, exposed as Prometheus text at `/metrics`.
//!
//! Built on `prometheus-client`, the Prometheus project's own Rust client: its
//! registry is a value, not a process global, so every service (and every
//! in-process test server) has its own, and it writes the OpenMetrics text
//! format Prometheus scrapes, with no exporter thread or extra listener.

use std::sync::Mutex;

use prometheus_client::encoding::text::encode;
use prometheus_client::registry::{Metric, Registry};

/// The content type of [`Metrics::encode`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// A service's metrics registry; register at start-up, encode on each scrape.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Locked only to register (start-up) and to encode (a scrape).
    registry: Mutex<Registry>,
}

impl Metrics {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `metric` under `name` (without the `_total` a counter gets).
    /// The library ends `help` with a full stop; one already there is dropped.
    pub fn register(&self, name: &str, help: &str, metric: impl Metric) {
        self.registry
            .lock()
            .expect("metrics registry lock")
            .register(name, help.trim_end_matches('.'), metric);
    }

    /// Every metric, in the OpenMetrics text format.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        let registry = self.registry.lock().expect("metrics registry lock");
        // Writing into a String cannot fail.
        let _ = encode(&mut text, &registry);
        text
    }
}

#[cfg(test)]
mod tests {
    use prometheus_client::metrics::counter::Counter;

    use super::*;

    #[test]
    fn registered_metrics_are_encoded() {
        let metrics = Metrics::new();
        let hits = Counter::<u64>::default();
        metrics.register("demo_hits", "Hits", hits.clone());
        hits.inc_by(3);
        let text = metrics.encode();
        assert!(text.contains("demo_hits_total 3"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }

    #[test]
    fn a_help_text_ends_in_one_full_stop() {
        let metrics = Metrics::new();
        metrics.register("a", "Counted.", Counter::<u64>::default());
        metrics.register("b", "Counted from peers", Counter::<u64>::default());
        let text = metrics.encode();
        assert!(text.contains("# HELP a Counted.\n"), "{text}");
        assert!(text.contains("# HELP b Counted from peers.\n"), "{text}");
        assert!(!text.contains(".."), "{text}");
    }
}
