//! What the gateway counts, in the service's registry (names in docs/gateway.md).

use inlet_common::metrics::Metrics;
use inlet_http::refused::RefusalMetric;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;

/// Which socket endpoint.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Endpoint {
    /// `chat` (`/`), `echo` or `events`.
    pub endpoint: &'static str,
}

/// Upgrades refused, by reason (counted by `inlet_http::refused`).
pub const REFUSED: RefusalMetric = RefusalMetric {
    name: "inlet_gateway_upgrades_refused",
    help: "WebSocket upgrades refused, by reason (the error code)",
    what: "WebSocket upgrade",
};

/// A close code the gateway sent.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Closed {
    /// The WebSocket close code, e.g. `1001`.
    pub code: u16,
}

/// The gateway's own metrics. Cheap to clone: clones share the values.
#[derive(Debug, Clone, Default)]
pub struct GatewayMetrics {
    /// Sockets open now, by endpoint.
    pub connections: Family<Endpoint, Gauge>,
    /// Data messages received from peers.
    pub messages_in: Counter,
    /// Data messages sent to peers (events included).
    pub messages_out: Counter,
    /// Events accepted through `EventIngest.Publish`.
    pub events_published: Counter,
    /// Event frames handed to subscribers.
    pub events_delivered: Counter,
    /// Events a subscriber lost by falling behind (it was closed).
    pub events_dropped: Counter,
    /// Subscribers closed for falling behind or not reading.
    pub slow_subscribers_closed: Counter,
    /// Sockets closed by the gateway, by close code.
    pub closes: Family<Closed, Counter>,
    /// Bytes of event frames the history holds.
    pub history_bytes: Gauge,
}

impl GatewayMetrics {
    /// Creates the gateway's metrics and registers them in `metrics`.
    pub fn register(metrics: &Metrics) -> Self {
        let this = Self::default();
        metrics.register(
            "inlet_gateway_connections",
            "WebSocket connections open now, by endpoint (chat, echo, events)",
            this.connections.clone(),
        );
        metrics.register(
            "inlet_gateway_messages_received",
            "Text and binary messages received from peers",
            this.messages_in.clone(),
        );
        metrics.register(
            "inlet_gateway_messages_sent",
            "Text and binary messages sent to peers, event frames included",
            this.messages_out.clone(),
        );
        metrics.register(
            "inlet_gateway_events_published",
            "Events accepted from publishing services",
            this.events_published.clone(),
        );
        metrics.register(
            "inlet_gateway_events_delivered",
            "Event frames handed to subscribers",
            this.events_delivered.clone(),
        );
        metrics.register(
            "inlet_gateway_events_dropped",
            "Events lost by subscribers that fell behind (and were closed)",
            this.events_dropped.clone(),
        );
        metrics.register(
            "inlet_gateway_slow_subscribers_closed",
            "Subscribers closed for falling behind or not reading",
            this.slow_subscribers_closed.clone(),
        );
        metrics.register(
            "inlet_gateway_history_bytes",
            "Bytes of event frames kept for replay (events.history_bytes bounds it)",
            this.history_bytes.clone(),
        );
        metrics.register(
            "inlet_gateway_closes",
            "WebSocket connections the gateway closed, by close code",
            this.closes.clone(),
        );
        this
    }
}
