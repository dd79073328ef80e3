//! Connection, timeout and shutdown settings for an actix-web server.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use inlet_common::config::{check, check_nonzero, ConfigProblem};

/// The `[http]` config table shared by HTTP services.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HttpSettings {
    /// Time a client has to send the full request head (slow headers → 408).
    pub request_head_timeout_ms: u64,
    /// Time a client has to send a whole request body (slow bodies → 408).
    pub body_timeout_ms: u64,
    /// How long an idle keep-alive connection stays open.
    pub keep_alive_secs: u64,
    /// After an answer that closes the connection, how long the client has to
    /// read it (what it still sends meanwhile is read and discarded) before
    /// the socket is closed.
    pub client_disconnect_timeout_ms: u64,
    /// On SIGTERM, how long in-flight requests may take before they are cut.
    pub shutdown_timeout_secs: u64,
    /// Worker threads; 0 means one per CPU core.
    pub workers: usize,
    /// Open connections per worker; more wait in the listen backlog.
    pub max_connections_per_worker: usize,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            request_head_timeout_ms: 5_000,
            body_timeout_ms: 30_000,
            keep_alive_secs: 5,
            client_disconnect_timeout_ms: 500,
            shutdown_timeout_secs: 30,
            workers: 0,
            max_connections_per_worker: 25_000,
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

    /// How long an idle keep-alive connection stays open.
    pub fn keep_alive(&self) -> Duration {
        Duration::from_secs(self.keep_alive_secs)
    }

    /// How long a client has to read a closing answer.
    pub fn client_disconnect_timeout(&self) -> Duration {
        Duration::from_millis(self.client_disconnect_timeout_ms)
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
    }
}
