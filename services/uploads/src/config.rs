//! The uploads service's typed configuration (see README for every key).

use std::net::SocketAddr;
use std::path::PathBuf;

use inlet_common::config::{
    check_data_dir, check_nonzero, default_data_dir, default_listen, ConfigProblem, Validate,
};
use inlet_common::log_format::LogFormat;
use inlet_common::service::ServiceConfig;
use inlet_http::settings::HttpSettings;
use serde::{Deserialize, Serialize};

/// Everything `inlet-uploads` can be configured with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UploadsConfig {
    /// HTTP listen address (`INLET_LISTEN`).
    pub listen: SocketAddr,
    /// Root of the shared volume; files go to `<data_dir>/uploads/`.
    pub data_dir: PathBuf,
    /// `service.name` for traces; unset falls back to `OTEL_SERVICE_NAME`, then `inlet-uploads`.
    pub service_name: Option<String>,
    /// `text` or `json` log lines (`INLET_LOG_FORMAT`).
    pub log_format: LogFormat,
    /// Size limits.
    pub limits: Limits,
    /// Timeouts, workers and shutdown deadline.
    pub http: HttpSettings,
}

/// The `[limits]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Largest file kept, in bytes; one byte more is 413 and nothing is kept.
    pub max_file_bytes: u64,
}

impl Default for UploadsConfig {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            data_dir: default_data_dir(),
            service_name: None,
            log_format: LogFormat::Text,
            limits: Limits::default(),
            http: HttpSettings::default(),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_file_bytes: 100 * 1024 * 1024,
        }
    }
}

impl UploadsConfig {
    /// Where files are stored.
    pub fn uploads_dir(&self) -> PathBuf {
        self.data_dir.join("uploads")
    }
}

impl Validate for UploadsConfig {
    fn validate(&self, problems: &mut Vec<ConfigProblem>) {
        check_nonzero(
            problems,
            &[("limits.max_file_bytes", self.limits.max_file_bytes)],
        );
        check_data_dir(problems, &self.data_dir);
        self.http.validate(problems);
    }
}

impl ServiceConfig for UploadsConfig {
    fn service_name(&self) -> Option<&str> {
        self.service_name.as_deref()
    }

    fn log_format(&self) -> LogFormat {
        self.log_format
    }

    fn health_listen(&self) -> SocketAddr {
        self.listen
    }
}
