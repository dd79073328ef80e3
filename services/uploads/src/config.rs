//! The uploads service's typed configuration (docs/uploads.md and docs/configuration.md list every key).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use inlet_common::access::AccessSettings;
use inlet_common::config::{
    check_data_dir, check_nonzero, default_data_dir, default_listen, ConfigProblem, Validate,
};
use inlet_common::disk_space::DiskSettings;
use inlet_common::jetstream::{FeedBackend, FeedSettings};
use inlet_common::log_format::LogFormat;
use inlet_common::publish::PublishSettings;
use inlet_common::retention::{duration, optional_duration, optional_number};
use inlet_http::settings::HttpSettings;
use serde::{Deserialize, Serialize};

use crate::store::s3::settings::S3Settings;
use crate::store::RetentionPolicy;

/// Everything `inlet-uploads` can be configured with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UploadsConfig {
    /// HTTP listen address (`INLET_LISTEN`).
    pub listen: SocketAddr,
    /// A second HTTP listener with only `/healthz`, `/readyz` and `/metrics`,
    /// open to anyone (`INLET_ADMIN_LISTEN`); unset, none. Keep it on loopback
    /// or a private network: on the main listener those paths need the
    /// read credential.
    pub admin_listen: Option<SocketAddr>,
    /// Root of the shared volume; files go to `<data_dir>/uploads/`.
    pub data_dir: PathBuf,
    /// `service.name` for traces; unset falls back to `OTEL_SERVICE_NAME`, then `inlet-uploads`.
    pub service_name: Option<String>,
    /// `text` or `json` log lines (`INLET_LOG_FORMAT`).
    pub log_format: LogFormat,
    /// Size limits.
    pub limits: Limits,
    /// When a stored file is on disk.
    pub store: StoreSettings,
    /// The low-disk guard (`disk.min_free_bytes`).
    pub disk: DiskSettings,
    /// Timeouts, workers and shutdown deadline.
    pub http: HttpSettings,
    /// Who may read what was stored (`INLET_ADMIN_TOKEN`, …).
    pub access: AccessSettings,
    /// The gateway's event ingest (`INLET_GATEWAY_URL`, e.g.
    /// `http://gateway:50051`); unset, nothing is published.
    pub gateway_url: Option<String>,
    /// How events are published (buffer, retries, bounds).
    pub publish: PublishSettings,
    /// Where events go: `events.backend` (`memory`: the gateway's ingest at
    /// `gateway_url`; `nats`: the JetStream stream in `events.nats`).
    pub events: FeedSettings,
}

/// The `[limits]` table. Crossing any limit is refused with 413 naming it,
/// and nothing of that request is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Largest file kept, in bytes (a multipart file part, or a PUT body).
    pub max_file_bytes: u64,
    /// Largest multipart request body, in bytes, all parts together.
    pub max_request_bytes: u64,
    /// Most parts (files and text fields) in one multipart request.
    pub max_parts: usize,
    /// Largest text field, in bytes.
    pub max_field_bytes: usize,
    /// Largest header block of one multipart part, in bytes.
    pub max_part_header_bytes: usize,
    /// Files listed by `GET /files` when no `limit` is given.
    pub default_list_limit: usize,
    /// Most files one `GET /files` page may list.
    pub max_list_limit: usize,
}

/// The `[store]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StoreSettings {
    /// Where files are kept: `volume` (a folder of the data volume, the
    /// default) or `s3` (a bucket, `[store.s3]`).
    pub backend: StoreBackend,
    /// The bucket, with `backend = "s3"`.
    pub s3: S3Settings,
    /// `always`: every file and its name fsync'd before the answer;
    /// `interval`: written and named, and the folder's filesystem flushed
    /// within `sync_interval_ms`.
    pub sync: SyncMode,
    /// With `sync = "interval"`: the longest a stored file waits for its
    /// flush, so the most a machine crash can lose.
    pub sync_interval_ms: u64,
    /// Files older than this are removed, oldest first; unset keeps them
    /// (`7d`, `12h`).
    #[serde(with = "optional_duration")]
    pub retention_max_age: Option<Duration>,
    /// The oldest files are removed while all stored files together are
    /// over this many bytes; unset keeps them.
    #[serde(with = "optional_number")]
    pub retention_max_bytes: Option<u64>,
    /// The oldest files are removed while more than this many are stored;
    /// unset keeps them.
    #[serde(with = "optional_number")]
    pub retention_max_files: Option<u64>,
    /// How often retention runs (also once at start-up).
    #[serde(with = "duration")]
    pub sweep_interval: Duration,
}

impl StoreSettings {
    /// What retention keeps.
    pub fn retention(&self) -> RetentionPolicy {
        RetentionPolicy {
            max_age: self.retention_max_age,
            max_bytes: self.retention_max_bytes,
            max_files: self.retention_max_files,
        }
    }
}

/// `store.backend`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreBackend {
    /// A folder of the data volume.
    #[default]
    Volume,
    /// An S3-compatible bucket.
    S3,
}

/// `store.sync`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncMode {
    /// Durable before the answer.
    Always,
    /// Durable within `store.sync_interval_ms` of the answer.
    Interval,
}

impl Default for StoreSettings {
    fn default() -> Self {
        Self {
            backend: StoreBackend::Volume,
            s3: S3Settings::default(),
            sync: SyncMode::Always,
            sync_interval_ms: 1000,
            retention_max_age: None,
            retention_max_bytes: None,
            retention_max_files: None,
            sweep_interval: Duration::from_secs(60),
        }
    }
}

impl Default for UploadsConfig {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            admin_listen: None,
            data_dir: default_data_dir(),
            service_name: None,
            log_format: LogFormat::Text,
            limits: Limits::default(),
            store: StoreSettings::default(),
            disk: DiskSettings::default(),
            http: HttpSettings {
                // Large files take time: a whole upload may take 10 minutes,
                // as long as it never stalls for longer than the idle timeout.
                body_timeout_ms: 600_000,
                ..HttpSettings::default()
            },
            access: AccessSettings::default(),
            gateway_url: None,
            publish: PublishSettings::default(),
            events: FeedSettings::default(),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_file_bytes: 100 * 1024 * 1024,
            max_request_bytes: 512 * 1024 * 1024,
            max_parts: 100,
            max_field_bytes: 64 * 1024,
            max_part_header_bytes: 8 * 1024,
            default_list_limit: 50,
            max_list_limit: 1000,
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
        let limits = &self.limits;
        check_nonzero(
            problems,
            &[
                ("limits.max_file_bytes", limits.max_file_bytes),
                ("limits.max_request_bytes", limits.max_request_bytes),
                ("limits.max_parts", limits.max_parts as u64),
                ("limits.max_field_bytes", limits.max_field_bytes as u64),
                (
                    "limits.max_part_header_bytes",
                    limits.max_part_header_bytes as u64,
                ),
                (
                    "limits.default_list_limit",
                    limits.default_list_limit as u64,
                ),
                ("limits.max_list_limit", limits.max_list_limit as u64),
                ("store.sync_interval_ms", self.store.sync_interval_ms),
                (
                    "store.sweep_interval",
                    self.store.sweep_interval.as_millis() as u64,
                ),
                (
                    "store.retention_max_bytes",
                    self.store.retention_max_bytes.unwrap_or(1),
                ),
                (
                    "store.retention_max_files",
                    self.store.retention_max_files.unwrap_or(1),
                ),
            ],
        );
        check_data_dir(problems, &self.data_dir);
        self.http.validate(problems);
        self.access.validate(problems);
        self.publish.validate(problems);
        if self.store.backend == StoreBackend::S3 {
            self.store.s3.validate(problems);
        }
        if self.events.backend == FeedBackend::Nats {
            self.events.nats.validate(problems);
        }
    }
}

inlet_common::impl_service_config!(UploadsConfig, health_listen: |c| c.admin_listen.unwrap_or(c.listen));

#[cfg(test)]
mod tests {
    use inlet_common::config::{load, ConfigSource};

    use super::*;

    fn load_env(pairs: &[(&str, &str)]) -> Result<UploadsConfig, String> {
        load(&ConfigSource::from_pairs(pairs.iter().copied())).map_err(|e| e.to_string())
    }

    #[test]
    fn store_sync_is_always_by_default_and_interval_when_asked() {
        assert_eq!(load_env(&[]).unwrap().store.sync, SyncMode::Always);
        let config = load_env(&[
            ("INLET_STORE__SYNC", "interval"),
            ("INLET_STORE__SYNC_INTERVAL_MS", "250"),
        ])
        .unwrap();
        assert_eq!(config.store.sync, SyncMode::Interval);
        assert_eq!(config.store.sync_interval_ms, 250);
    }

    #[test]
    fn the_s3_backend_reads_its_table_and_checks_it_only_when_chosen() {
        assert_eq!(load_env(&[]).unwrap().store.backend, StoreBackend::Volume);
        // Unused, a wrong table is no problem.
        assert!(load_env(&[("INLET_STORE__S3__PART_BYTES", "1")]).is_ok());
        let config = load_env(&[
            ("INLET_STORE__BACKEND", "s3"),
            ("INLET_STORE__S3__ENDPOINT", "http://s3:9000"),
            ("INLET_STORE__S3__BUCKET", "files"),
            ("INLET_STORE__S3__PREFIX", "inlet/"),
            ("INLET_STORE__S3__ACCESS_KEY_ID", "id"),
            ("INLET_STORE__S3__SECRET_ACCESS_KEY", "secret"),
            ("INLET_STORE__S3__PART_BYTES", "16777216"),
            ("INLET_STORE__S3__ABANDONED_AFTER", "2h"),
        ])
        .unwrap();
        assert_eq!(config.store.backend, StoreBackend::S3);
        assert_eq!(config.store.s3.bucket, "files");
        assert_eq!(config.store.s3.prefix, "inlet/");
        assert_eq!(config.store.s3.part_bytes, 16 * 1024 * 1024);
        assert_eq!(config.store.s3.abandoned_after, Duration::from_secs(7200));
        let err = load_env(&[("INLET_STORE__BACKEND", "s3")]).unwrap_err();
        assert!(err.contains("store.s3.access_key_id"), "{err}");
        let err = load_env(&[("INLET_STORE__BACKEND", "tape")]).unwrap_err();
        assert!(err.contains("store.backend"), "{err}");
    }

    #[test]
    fn bad_store_values_name_their_keys() {
        let err = load_env(&[("INLET_STORE__SYNC", "sometimes")]).unwrap_err();
        assert!(err.contains("store.sync"), "{err}");
        let err = load_env(&[("INLET_STORE__SYNC_INTERVAL_MS", "0")]).unwrap_err();
        assert!(err.contains("store.sync_interval_ms"), "{err}");
    }
}
