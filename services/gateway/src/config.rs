//! The gateway's typed configuration (docs/gateway.md and docs/configuration.md list every key).

use std::net::SocketAddr;
use std::time::Duration;

use inlet_common::access::AccessSettings;
use inlet_common::config::{
    check, check_nonzero, comma_list, default_listen, ConfigProblem, Validate,
};
use inlet_common::jetstream::{FeedBackend, NatsSettings};
use inlet_common::log_format::LogFormat;
pub use inlet_http::client_address::ProxyNet;
use inlet_http::settings::HttpSettings;
use serde::{Deserialize, Serialize};

/// Everything `inlet-gateway` can be configured with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GatewayConfig {
    /// HTTP and WebSocket listen address (`INLET_LISTEN`).
    pub listen: SocketAddr,
    /// A second HTTP listener with only `/healthz`, `/readyz` and `/metrics`,
    /// open to anyone (`INLET_ADMIN_LISTEN`); unset, none. Keep it on loopback
    /// or a private network: on the main listener those paths need the
    /// read credential.
    pub admin_listen: Option<SocketAddr>,
    /// gRPC event ingest listen address (`INLET_GRPC_LISTEN`); loopback by
    /// default. Publishers must present `access.publish_token`.
    pub grpc_listen: SocketAddr,
    /// `service.name` for traces; unset falls back to `OTEL_SERVICE_NAME`, then `inlet-gateway`.
    pub service_name: Option<String>,
    /// `text` or `json` log lines (`INLET_LOG_FORMAT`).
    pub log_format: LogFormat,
    /// Timeouts, workers and shutdown deadline of the HTTP listener.
    pub http: HttpSettings,
    /// Who may read what was stored (`INLET_ADMIN_TOKEN`, …).
    pub access: AccessSettings,
    /// WebSocket limits, liveness and who may connect.
    pub websocket: WebSocketSettings,
    /// The event feed's history and subscriber queues.
    pub events: EventSettings,
}

/// The `[websocket]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WebSocketSettings {
    /// Largest message a peer may send, in bytes (frames of one message
    /// together); a larger one closes the socket with 1009.
    pub max_message_bytes: usize,
    /// Most sockets open at once; one more upgrade is answered 503.
    pub max_connections: usize,
    /// A ping goes to each peer this often.
    pub ping_interval_ms: u64,
    /// A peer that sends nothing (no pong, no message) for this long after a
    /// ping is closed.
    pub pong_timeout_ms: u64,
    /// Longest a frame may wait for a peer to take it; a peer that does not
    /// read for this long is closed as too slow.
    pub send_timeout_ms: u64,
    /// Browser origins allowed to open a socket (`https://app.example`).
    /// Empty: only pages of the gateway itself (`Origin` naming the `Host`
    /// asked for). `*`: any. Clients that send no `Origin` (not browsers)
    /// are always allowed.
    #[serde(deserialize_with = "comma_list")]
    pub allowed_origins: Vec<String>,
    /// Deprecated: `http.trusted_proxies`, which every service reads. Still
    /// honoured (added to it), with a warning at start-up.
    #[serde(deserialize_with = "comma_list")]
    pub trusted_proxies: Vec<ProxyNet>,
}

/// The `[events]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EventSettings {
    /// `memory` (this gateway sequences what its gRPC ingest takes; a new
    /// epoch each run) or `nats` (every replica follows the JetStream
    /// stream in `events.nats`; history survives restarts).
    pub backend: FeedBackend,
    /// The stream, when `backend` is `nats`.
    pub nats: NatsSettings,
    /// Events kept in memory for `/events?since=` to replay (with `nats`,
    /// also the most one connection reads back from the stream).
    pub history: usize,
    /// Bytes of event frames kept for replay; the oldest go first.
    pub history_bytes: usize,
    /// How many events a subscriber may fall behind; past it the subscriber
    /// is closed with 1013 (reconnect with `since`).
    pub subscriber_queue: usize,
    /// How many bytes of event frames a subscriber may fall behind; past it,
    /// as past `subscriber_queue`, it is closed with 1013.
    pub subscriber_queue_bytes: usize,
    /// Largest `Publish` request the gRPC ingest decodes; a larger one is
    /// refused (the publisher drops it and counts it).
    pub max_event_bytes: usize,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            admin_listen: None,
            // Loopback: only publishers on this host (compose sets its network).
            grpc_listen: SocketAddr::from(([127, 0, 0, 1], 50051)),
            service_name: None,
            log_format: LogFormat::Text,
            http: HttpSettings::default(),
            access: AccessSettings::default(),
            websocket: WebSocketSettings::default(),
            events: EventSettings::default(),
        }
    }
}

impl Default for WebSocketSettings {
    fn default() -> Self {
        Self {
            max_message_bytes: 64 * 1024,
            max_connections: 10_000,
            ping_interval_ms: 30_000,
            pong_timeout_ms: 10_000,
            send_timeout_ms: 10_000,
            allowed_origins: Vec::new(),
            trusted_proxies: Vec::new(),
        }
    }
}

impl Default for EventSettings {
    fn default() -> Self {
        Self {
            backend: FeedBackend::Memory,
            nats: NatsSettings::default(),
            history: 10_000,
            history_bytes: 64 * 1024 * 1024,
            subscriber_queue: 1024,
            subscriber_queue_bytes: 16 * 1024 * 1024,
            max_event_bytes: 1024 * 1024,
        }
    }
}

impl GatewayConfig {
    /// Moves `websocket.trusted_proxies` (deprecated) into
    /// `http.trusted_proxies`; true if it was set, so start-up can warn.
    pub fn take_deprecated_proxies(&mut self) -> bool {
        let old = std::mem::take(&mut self.websocket.trusted_proxies);
        let was_set = !old.is_empty();
        self.http.trusted_proxies.extend(old);
        was_set
    }
}

impl WebSocketSettings {
    /// How often to ping.
    pub fn ping_interval(&self) -> Duration {
        Duration::from_millis(self.ping_interval_ms)
    }

    /// How long a pinged peer may stay silent.
    pub fn pong_timeout(&self) -> Duration {
        Duration::from_millis(self.pong_timeout_ms)
    }

    /// How long one frame may wait for the peer.
    pub fn send_timeout(&self) -> Duration {
        Duration::from_millis(self.send_timeout_ms)
    }
}

impl Validate for GatewayConfig {
    fn validate(&self, problems: &mut Vec<ConfigProblem>) {
        let ws = &self.websocket;
        check_nonzero(
            problems,
            &[
                ("websocket.max_message_bytes", ws.max_message_bytes as u64),
                ("websocket.max_connections", ws.max_connections as u64),
                ("websocket.ping_interval_ms", ws.ping_interval_ms),
                ("websocket.pong_timeout_ms", ws.pong_timeout_ms),
                ("websocket.send_timeout_ms", ws.send_timeout_ms),
                ("events.history", self.events.history as u64),
                (
                    "events.subscriber_queue",
                    self.events.subscriber_queue as u64,
                ),
                ("events.history_bytes", self.events.history_bytes as u64),
                (
                    "events.subscriber_queue_bytes",
                    self.events.subscriber_queue_bytes as u64,
                ),
                ("events.max_event_bytes", self.events.max_event_bytes as u64),
            ],
        );
        for origin in &ws.allowed_origins {
            check(
                problems,
                origin == "*" || origin.starts_with("http://") || origin.starts_with("https://"),
                "websocket.allowed_origins",
                "each origin must be `*` or start with http:// or https:// (e.g. https://app.example)",
            );
        }
        if self.events.backend == FeedBackend::Nats {
            self.events.nats.validate(problems);
        }
        self.http.validate(problems);
        self.access.validate(problems);
    }
}

inlet_common::impl_service_config!(GatewayConfig, health_listen: |c| c.admin_listen.unwrap_or(c.listen));

#[cfg(test)]
mod tests {
    use inlet_common::config::{load, ConfigSource};

    use super::*;

    fn load_env(pairs: &[(&str, &str)]) -> Result<GatewayConfig, String> {
        load(&ConfigSource::from_pairs(pairs.iter().copied())).map_err(|e| e.to_string())
    }

    #[test]
    fn lists_come_from_one_variable_separated_by_commas() {
        let config = load_env(&[
            (
                "INLET_WEBSOCKET__ALLOWED_ORIGINS",
                "https://a.example, http://b.example:8080",
            ),
            ("INLET_WEBSOCKET__TRUSTED_PROXIES", "10.0.0.5,172.16.0.0/12"),
        ])
        .unwrap();
        assert_eq!(
            config.websocket.allowed_origins,
            ["https://a.example", "http://b.example:8080"]
        );
        let proxies = &config.websocket.trusted_proxies;
        assert!(proxies[0].contains(&"10.0.0.5".parse().unwrap()));
        assert!(!proxies[0].contains(&"10.0.0.6".parse().unwrap()));
        assert!(proxies[1].contains(&"172.18.0.2".parse().unwrap()));
    }

    #[test]
    fn bad_values_name_their_keys() {
        let err = load_env(&[
            ("INLET_WEBSOCKET__TRUSTED_PROXIES", "not-an-address"),
            ("INLET_WEBSOCKET__ALLOWED_ORIGINS", "app.example"),
            ("INLET_EVENTS__HISTORY", "0"),
        ])
        .unwrap_err();
        assert!(err.contains("websocket.trusted_proxies"), "{err}");
        assert!(err.contains("websocket.allowed_origins"), "{err}");
        assert!(err.contains("events.history"), "{err}");
    }

    #[test]
    fn the_feed_on_nats_is_configured_by_environment_and_checked() {
        let config = load_env(&[
            ("INLET_EVENTS__BACKEND", "nats"),
            ("INLET_EVENTS__NATS__URL", "nats://nats:4222"),
            ("INLET_EVENTS__NATS__MAX_AGE", "12h"),
            ("INLET_EVENTS__NATS__MAX_MESSAGES", "5000"),
        ])
        .unwrap();
        assert_eq!(config.events.backend, FeedBackend::Nats);
        assert_eq!(config.events.nats.url, "nats://nats:4222");
        assert_eq!(config.events.nats.max_age, Duration::from_secs(12 * 3600));
        assert_eq!(config.events.nats.max_messages, 5000);
        let err = load_env(&[
            ("INLET_EVENTS__BACKEND", "nats"),
            ("INLET_EVENTS__NATS__STREAM", "not a name"),
        ])
        .unwrap_err();
        assert!(err.contains("events.nats.stream"), "{err}");
        let err = load_env(&[("INLET_EVENTS__BACKEND", "kafka")]).unwrap_err();
        assert!(
            err.contains("events.backend") || err.contains("kafka"),
            "{err}"
        );
    }

    #[test]
    fn the_defaults_load() {
        let config = load_env(&[]).unwrap();
        assert_eq!(config, GatewayConfig::default());
        assert_eq!(config.grpc_listen.port(), 50051);
    }
}
