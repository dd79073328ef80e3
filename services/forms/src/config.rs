//! The forms service's typed configuration (docs/forms.md and docs/configuration.md list every key).

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

use crate::store::postgres::settings::PostgresSettings;
use crate::store::{JournalSettings, RetentionPolicy, SyncPolicy};

/// Everything `inlet-forms` can be configured with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FormsConfig {
    /// HTTP listen address (`INLET_LISTEN`).
    pub listen: SocketAddr,
    /// A second HTTP listener with only `/healthz`, `/readyz` and `/metrics`,
    /// open to anyone (`INLET_ADMIN_LISTEN`); unset, none. Keep it on loopback
    /// or a private network: on the main listener those paths need the
    /// read credential.
    pub admin_listen: Option<SocketAddr>,
    /// Root of the shared volume; submissions go to `<data_dir>/forms/`.
    pub data_dir: PathBuf,
    /// `service.name` for traces; unset falls back to `OTEL_SERVICE_NAME`, then `inlet-forms`.
    pub service_name: Option<String>,
    /// `text` or `json` log lines (`INLET_LOG_FORMAT`).
    pub log_format: LogFormat,
    /// Size and count limits on submissions.
    pub limits: Limits,
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
    /// How submissions are written, kept and erased.
    pub store: StoreSettings,
    /// The low-disk guard (`disk.min_free_bytes`).
    pub disk: DiskSettings,
}

/// The `[limits]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Largest accepted body in bytes; one byte more is 413.
    pub max_body_bytes: u64,
    /// Most fields one urlencoded body may carry; more is 413.
    pub max_fields: usize,
    /// Largest page `GET /submissions?limit=` may ask for.
    pub max_list_limit: usize,
    /// Page size of `GET /submissions` without `?limit=` (at most `max_list_limit`).
    pub default_list_limit: usize,
    /// Deepest nesting of arrays and objects a JSON body may have; deeper is 400.
    pub max_json_depth: usize,
    /// Most bytes of request bodies held in memory at once, over all
    /// connections; a body that does not fit is refused with 503 and
    /// `Retry-After` (at least `max_body_bytes`).
    pub max_inflight_body_bytes: u64,
    /// Most bytes of records one `GET /submissions` page carries; a page
    /// stops early, with a cursor, before the record that would pass it
    /// (a page always holds at least one record).
    pub max_page_bytes: u64,
}

/// Smallest `store.segment_bytes`: below it a segment would hold only a few records.
pub const MIN_SEGMENT_BYTES: u64 = 4096;

/// The `[store]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StoreSettings {
    /// Where submissions are kept: `journal` (segment files under
    /// `<data_dir>/forms/`, the default) or `postgres` (a table that several
    /// replicas share, `store.postgres.*`).
    pub backend: StoreBackend,
    /// The PostgreSQL server and table, with `backend = "postgres"`.
    pub postgres: PostgresSettings,
    /// Most submissions written and fsync'd (or committed) together in one group commit.
    pub max_batch: usize,
    /// Submissions that may wait for the writer before posts are slowed down.
    pub queue_depth: usize,
    /// When an acknowledged submission is on disk: `always` (fdatasync'd
    /// before its 200) or `interval` (within `sync_interval_ms` of it).
    pub sync: SyncMode,
    /// With `sync = "interval"`: the longest an acknowledged submission may
    /// wait for its fdatasync, so the most a machine crash can lose.
    pub sync_interval_ms: u64,
    /// Size at which the journal starts a new segment file (a segment can
    /// pass it by one group commit).
    pub segment_bytes: u64,
    /// Submissions older than this are dropped, a whole segment at a time
    /// (once its newest record is past it); unset keeps them (`7d`, `12h`).
    #[serde(with = "optional_duration")]
    pub retention_max_age: Option<Duration>,
    /// The oldest segments are dropped while the journal's files are over
    /// this many bytes; unset keeps them.
    #[serde(with = "optional_number")]
    pub retention_max_bytes: Option<u64>,
    /// How often retention and compaction run (also once at start-up).
    #[serde(with = "duration")]
    pub sweep_interval: Duration,
    /// How long a deleted submission's bytes may wait for the compaction
    /// that erases them (deletions made close together are erased in one
    /// rewrite). Erased at the first sweep after this.
    #[serde(with = "duration")]
    pub compact_after: Duration,
}

/// `store.backend`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreBackend {
    /// The segmented journal on the data volume.
    #[default]
    Journal,
    /// A PostgreSQL table.
    Postgres,
}

/// `store.sync`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncMode {
    /// Every submission is fdatasync'd before its 200.
    Always,
    /// fdatasync at least every `store.sync_interval_ms`.
    Interval,
}

impl StoreSettings {
    /// What retention keeps.
    pub fn retention(&self) -> RetentionPolicy {
        RetentionPolicy {
            max_age: self.retention_max_age,
            max_bytes: self.retention_max_bytes,
        }
    }

    /// What the journal is opened with.
    pub fn journal(&self) -> JournalSettings {
        JournalSettings {
            max_batch: self.max_batch,
            queue_depth: self.queue_depth,
            sync: match self.sync {
                SyncMode::Always => SyncPolicy::Always,
                SyncMode::Interval => {
                    SyncPolicy::Interval(Duration::from_millis(self.sync_interval_ms))
                }
            },
            segment_bytes: self.segment_bytes,
        }
    }
}

impl Default for FormsConfig {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            admin_listen: None,
            data_dir: default_data_dir(),
            service_name: None,
            log_format: LogFormat::Text,
            limits: Limits::default(),
            http: HttpSettings::default(),
            access: AccessSettings::default(),
            store: StoreSettings::default(),
            disk: DiskSettings::default(),
            gateway_url: None,
            publish: PublishSettings::default(),
            events: FeedSettings::default(),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 2 * 1024 * 1024,
            max_fields: 1000,
            max_list_limit: 1000,
            default_list_limit: 50,
            max_json_depth: 64,
            max_page_bytes: 4 * 1024 * 1024,
            max_inflight_body_bytes: 64 * 1024 * 1024,
        }
    }
}

impl Default for StoreSettings {
    fn default() -> Self {
        Self {
            backend: StoreBackend::Journal,
            postgres: PostgresSettings::default(),
            max_batch: 512,
            queue_depth: 4096,
            sync: SyncMode::Always,
            sync_interval_ms: 1000,
            segment_bytes: 64 * 1024 * 1024,
            retention_max_age: None,
            retention_max_bytes: None,
            sweep_interval: Duration::from_secs(60),
            compact_after: Duration::from_secs(600),
        }
    }
}

impl FormsConfig {
    /// Where submissions are stored.
    pub fn forms_dir(&self) -> PathBuf {
        self.data_dir.join("forms")
    }
}

impl Validate for FormsConfig {
    fn validate(&self, problems: &mut Vec<ConfigProblem>) {
        check_nonzero(
            problems,
            &[
                ("limits.max_body_bytes", self.limits.max_body_bytes),
                ("limits.max_fields", self.limits.max_fields as u64),
                ("limits.max_list_limit", self.limits.max_list_limit as u64),
                ("limits.max_page_bytes", self.limits.max_page_bytes),
                (
                    "limits.default_list_limit",
                    self.limits.default_list_limit as u64,
                ),
                ("store.max_batch", self.store.max_batch as u64),
                ("store.queue_depth", self.store.queue_depth as u64),
                ("store.sync_interval_ms", self.store.sync_interval_ms),
                (
                    "store.sweep_interval",
                    self.store.sweep_interval.as_millis() as u64,
                ),
                (
                    "store.retention_max_bytes",
                    self.store.retention_max_bytes.unwrap_or(1),
                ),
            ],
        );
        inlet_common::config::check(
            problems,
            (1..=crate::json_body::MAX_SUPPORTED_DEPTH).contains(&self.limits.max_json_depth),
            "limits.max_json_depth",
            &format!(
                "must be from 1 to {}",
                crate::json_body::MAX_SUPPORTED_DEPTH
            ),
        );
        inlet_common::config::check(
            problems,
            self.limits.max_inflight_body_bytes >= self.limits.max_body_bytes,
            "limits.max_inflight_body_bytes",
            "must be at least limits.max_body_bytes, or no body of the largest size could be read",
        );
        inlet_common::config::check(
            problems,
            self.store.segment_bytes >= MIN_SEGMENT_BYTES,
            "store.segment_bytes",
            &format!("must be at least {MIN_SEGMENT_BYTES}"),
        );
        check_data_dir(problems, &self.data_dir);
        self.http.validate(problems);
        self.access.validate(problems);
        self.publish.validate(problems);
        if self.events.backend == FeedBackend::Nats {
            self.events.nats.validate(problems);
        }
        if self.store.backend == StoreBackend::Postgres {
            self.store.postgres.validate(problems);
        }
    }
}

inlet_common::impl_service_config!(FormsConfig, health_listen: |c| c.admin_listen.unwrap_or(c.listen));

#[cfg(test)]
mod tests {
    use inlet_common::config::{load, ConfigSource};

    use super::*;

    fn load_env(pairs: &[(&str, &str)]) -> Result<FormsConfig, String> {
        load(&ConfigSource::from_pairs(pairs.iter().copied())).map_err(|e| e.to_string())
    }

    #[test]
    fn retention_is_off_by_default_and_reads_durations_and_sizes() {
        let config = load_env(&[]).unwrap();
        assert_eq!(config.store.retention(), RetentionPolicy::default());
        assert_eq!(config.store.compact_after, Duration::from_secs(600));
        let config = load_env(&[
            ("INLET_STORE__RETENTION_MAX_AGE", "7d"),
            ("INLET_STORE__RETENTION_MAX_BYTES", "10000000000"),
            ("INLET_STORE__SWEEP_INTERVAL", "30s"),
        ])
        .unwrap();
        assert_eq!(
            config.store.retention(),
            RetentionPolicy {
                max_age: Some(Duration::from_secs(7 * 86_400)),
                max_bytes: Some(10_000_000_000),
            }
        );
        assert_eq!(config.store.sweep_interval, Duration::from_secs(30));
        // Empty is unset: what compose passes for a variable left out of .env.
        let config = load_env(&[
            ("INLET_STORE__RETENTION_MAX_AGE", ""),
            ("INLET_STORE__RETENTION_MAX_BYTES", ""),
        ])
        .unwrap();
        assert_eq!(config.store.retention(), RetentionPolicy::default());
    }

    #[test]
    fn bad_retention_values_name_their_keys() {
        let err = load_env(&[("INLET_STORE__RETENTION_MAX_AGE", "a week")]).unwrap_err();
        assert!(err.contains("store.retention_max_age"), "{err}");
        assert!(err.contains("7d"), "{err}");
        let err = load_env(&[("INLET_STORE__SWEEP_INTERVAL", "0s")]).unwrap_err();
        assert!(err.contains("store.sweep_interval"), "{err}");
        let err = load_env(&[("INLET_STORE__RETENTION_MAX_BYTES", "0")]).unwrap_err();
        assert!(err.contains("store.retention_max_bytes"), "{err}");
    }

    #[test]
    fn the_postgres_backend_reads_its_table_and_checks_it() {
        assert_eq!(load_env(&[]).unwrap().store.backend, StoreBackend::Journal);
        let config = load_env(&[
            ("INLET_STORE__BACKEND", "postgres"),
            (
                "INLET_STORE__POSTGRES__URL",
                "postgres://inlet:pw@db:5433/forms",
            ),
            ("INLET_STORE__POSTGRES__POOL_SIZE", "4"),
        ])
        .unwrap();
        assert_eq!(config.store.backend, StoreBackend::Postgres);
        assert_eq!(config.store.postgres.pool_size, 4);
        assert_eq!(config.store.postgres.table, "form_submissions");
        let err = load_env(&[("INLET_STORE__BACKEND", "postgres")]).unwrap_err();
        assert!(err.contains("store.postgres.url"), "{err}");
        let err = load_env(&[
            ("INLET_STORE__BACKEND", "postgres"),
            ("INLET_STORE__POSTGRES__URL", "postgres://db/forms"),
            ("INLET_STORE__POSTGRES__TABLE", "forms; drop table x"),
            ("INLET_STORE__POSTGRES__WRITERS", "40"),
        ])
        .unwrap_err();
        assert!(err.contains("store.postgres.table"), "{err}");
        assert!(err.contains("store.postgres.writers"), "{err}");
        let err = load_env(&[("INLET_STORE__BACKEND", "mysql")]).unwrap_err();
        assert!(err.contains("store.backend"), "{err}");
    }
}
