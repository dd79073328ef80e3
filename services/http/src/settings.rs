//! Connection, timeout and shutdown settings for an actix-web server.
//!
//! Every duration key is in milliseconds (`…_ms`). The two keys that were in
//! seconds, `keep_alive_secs` and `shutdown_timeout_secs`, are still read so
//! old config files keep working; they are deprecated, win over their `_ms`
//! twin when set, and a warning names them at start-up.

use std::time::Duration;

use inlet_common::config::{check, check_nonzero, comma_list, ConfigProblem};
use serde::{Deserialize, Serialize};

use crate::client_address::ProxyNet;

/// The `[http]` config table shared by HTTP services.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HttpSettings {
    /// Time a client has to send the full request head (slow headers → 408).
    pub request_head_timeout_ms: u64,
    /// Time a client has to send a whole request body (slow bodies → 408).
    pub body_timeout_ms: u64,
    /// Longest pause between two pieces of a request body (a stalled body → 408).
    pub body_idle_timeout_ms: u64,
    /// How long an idle keep-alive connection stays open.
    pub keep_alive_ms: u64,
    /// After an answer that closes the connection, how long the client has to
    /// read it (what it still sends meanwhile is read and discarded) before
    /// the socket is closed.
    pub client_disconnect_timeout_ms: u64,
    /// On SIGTERM, how long in-flight requests may take before they are cut.
    pub shutdown_timeout_ms: u64,
    /// Worker threads; 0 means one per CPU core.
    pub workers: usize,
    /// Open connections per worker; more wait in the listen backlog.
    pub max_connections_per_worker: usize,
    /// Host names the service answers to (ports ignored); any other `Host`
    /// gets 403, so a DNS-rebinding page cannot reach it. `*`: any name.
    #[serde(deserialize_with = "comma_list")]
    pub allowed_hosts: Vec<String>,
    /// Peers (addresses or CIDR blocks) whose `X-Forwarded-For` is believed
    /// for the client's address; from anyone else it is ignored.
    #[serde(deserialize_with = "comma_list")]
    pub trusted_proxies: Vec<ProxyNet>,
    /// Deprecated: `keep_alive_ms`, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_alive_secs: Option<u64>,
    /// Deprecated: `shutdown_timeout_ms`, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shutdown_timeout_secs: Option<u64>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            request_head_timeout_ms: 5_000,
            body_timeout_ms: 30_000,
            body_idle_timeout_ms: 10_000,
            keep_alive_ms: 5_000,
            client_disconnect_timeout_ms: 500,
            shutdown_timeout_ms: 30_000,
            workers: 0,
            max_connections_per_worker: 25_000,
            allowed_hosts: vec!["localhost".into(), "127.0.0.1".into(), "[::1]".into()],
            trusted_proxies: Vec::new(),
            keep_alive_secs: None,
            shutdown_timeout_secs: None,
        }
    }
}

impl HttpSettings {
    /// Time allowed for the request head.
    pub fn request_head_timeout(&self) -> Duration {
        Duration::from_millis(self.request_head_timeout_ms)
    }

    /// Time allowed for the request body.
    pub fn body_timeout(&self) -> Duration {
        Duration::from_millis(self.body_timeout_ms)
    }

    /// Longest pause allowed within a request body.
    pub fn body_idle_timeout(&self) -> Duration {
        Duration::from_millis(self.body_idle_timeout_ms)
    }

    /// How long an idle keep-alive connection stays open.
    pub fn keep_alive(&self) -> Duration {
        self.keep_alive_secs.map_or(
            Duration::from_millis(self.keep_alive_ms),
            Duration::from_secs,
        )
    }

    /// How long a client has to read a closing answer.
    pub fn client_disconnect_timeout(&self) -> Duration {
        Duration::from_millis(self.client_disconnect_timeout_ms)
    }

    /// How long in-flight requests may take once a stop is asked for.
    pub fn shutdown_timeout(&self) -> Duration {
        self.shutdown_timeout_secs.map_or(
            Duration::from_millis(self.shutdown_timeout_ms),
            Duration::from_secs,
        )
    }

    /// The deprecated keys this config sets, as `http.<key>`.
    pub fn deprecated_keys(&self) -> Vec<&'static str> {
        let mut keys = Vec::new();
        if self.keep_alive_secs.is_some() {
            keys.push("http.keep_alive_secs");
        }
        if self.shutdown_timeout_secs.is_some() {
            keys.push("http.shutdown_timeout_secs");
        }
        keys
    }

    /// Worker count with 0 resolved to the number of cores.
    pub fn worker_count(&self) -> usize {
        if self.workers == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            self.workers
        }
    }

    /// Range checks, reported under `http.*`.
    pub fn validate(&self, problems: &mut Vec<ConfigProblem>) {
        check_nonzero(
            problems,
            &[
                ("http.request_head_timeout_ms", self.request_head_timeout_ms),
                ("http.body_timeout_ms", self.body_timeout_ms),
                ("http.body_idle_timeout_ms", self.body_idle_timeout_ms),
                (
                    "http.max_connections_per_worker",
                    self.max_connections_per_worker as u64,
                ),
            ],
        );
        check(
            problems,
            self.workers <= 1024,
            "http.workers",
            "must be at most 1024",
        );
        check(
            problems,
            !self.allowed_hosts.is_empty(),
            "http.allowed_hosts",
            "must name at least one host (or `*` for any)",
        );
    }
}

#[cfg(test)]
mod tests {
    use inlet_common::config::{load, ConfigSource, Validate};

    use super::*;

    #[derive(Debug, Default, Serialize, Deserialize)]
    #[serde(default)]
    struct WithHttp {
        http: HttpSettings,
    }

    impl Validate for WithHttp {
        fn validate(&self, problems: &mut Vec<ConfigProblem>) {
            self.http.validate(problems);
        }
    }

    fn loaded(pairs: &[(&str, &str)]) -> HttpSettings {
        load::<WithHttp>(&ConfigSource::from_pairs(pairs.iter().copied()))
            .unwrap()
            .http
    }

    #[test]
    fn durations_are_in_milliseconds() {
        let http = loaded(&[
            ("INLET_HTTP__KEEP_ALIVE_MS", "1500"),
            ("INLET_HTTP__SHUTDOWN_TIMEOUT_MS", "2500"),
        ]);
        assert_eq!(http.keep_alive(), Duration::from_millis(1500));
        assert_eq!(http.shutdown_timeout(), Duration::from_millis(2500));
        assert!(http.deprecated_keys().is_empty());
    }

    #[test]
    fn the_old_seconds_keys_still_work_and_are_named() {
        let http = loaded(&[
            ("INLET_HTTP__KEEP_ALIVE_SECS", "7"),
            ("INLET_HTTP__SHUTDOWN_TIMEOUT_SECS", "9"),
        ]);
        assert_eq!(http.keep_alive(), Duration::from_secs(7));
        assert_eq!(http.shutdown_timeout(), Duration::from_secs(9));
        assert_eq!(
            http.deprecated_keys(),
            ["http.keep_alive_secs", "http.shutdown_timeout_secs"]
        );
    }

    #[test]
    fn defaults() {
        let http = loaded(&[]);
        assert_eq!(http.keep_alive(), Duration::from_secs(5));
        assert_eq!(http.shutdown_timeout(), Duration::from_secs(30));
        assert_eq!(http.client_disconnect_timeout(), Duration::from_millis(500));
    }
}
