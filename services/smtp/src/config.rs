//! The SMTP service's typed configuration (docs/smtp.md and docs/configuration.md list every key).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use inlet_common::access::AccessSettings;
use inlet_common::config::{
    check, check_data_dir, check_nonzero, comma_list, default_data_dir, ConfigProblem, Validate,
};
use inlet_common::disk_space::DiskSettings;
use inlet_common::jetstream::{FeedBackend, FeedSettings};
use inlet_common::log_format::LogFormat;
use inlet_common::publish::PublishSettings;
use inlet_common::retention::{duration, optional_duration, optional_number};
use inlet_http::settings::HttpSettings;
use serde::{Deserialize, Serialize};

use crate::mailbox::is_safe_user;
use crate::messages::MailRetention;

/// Everything `inlet-smtp` can be configured with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SmtpConfig {
    /// SMTP listen address (`INLET_SMTP_LISTEN`).
    pub smtp_listen: SocketAddr,
    /// HTTP address for `/healthz`, `/readyz` and `/metrics` (`INLET_ADMIN_LISTEN`).
    pub admin_listen: SocketAddr,
    /// HTTP address of the mail API, `/messages` (`INLET_LISTEN`); unset,
    /// none. The image sets `0.0.0.0:8080` (compose publishes it on 8083).
    pub listen: Option<SocketAddr>,
    /// `/messages` page sizes.
    pub messages: MessagesSettings,
    /// Root of the shared volume; mail goes to `<data_dir>/mail/<user>/`.
    pub data_dir: PathBuf,
    /// `service.name` for traces; unset falls back to `OTEL_SERVICE_NAME`, then `inlet-smtp`.
    pub service_name: Option<String>,
    /// `text` or `json` log lines (`INLET_LOG_FORMAT`).
    pub log_format: LogFormat,
    /// The name the server greets with and stamps in `Received:`.
    pub hostname: String,
    /// Who receives mail, and the limits of a session.
    pub smtp: SmtpSettings,
    /// The admin listener's `[http]` settings, as every service has them;
    /// `http.shutdown_timeout_ms` also bounds how long open sessions may
    /// finish at a stop. Its `allowed_hosts` defaults to `*`: it serves no
    /// pages, and probes and scrapers may use any name.
    pub http: HttpSettings,
    /// Who may read what was stored (`INLET_ADMIN_TOKEN`, …).
    pub access: AccessSettings,
    /// The gateway's event ingest (`INLET_GATEWAY_URL`); unset, nothing is published.
    pub gateway_url: Option<String>,
    /// How events are published (buffer, retries, bounds).
    pub publish: PublishSettings,
    /// Where events go: `events.backend` (`memory`: the gateway's ingest at
    /// `gateway_url`; `nats`: the JetStream stream in `events.nats`).
    pub events: FeedSettings,
    /// How long stored mail is kept (`[mail]`).
    pub mail: MailSettings,
    /// The low-disk guard (`disk.min_free_bytes`).
    pub disk: DiskSettings,
}

/// The `[messages]` table: the mail API's page sizes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MessagesSettings {
    /// Messages on a page without `?limit=`.
    pub default_list_limit: usize,
    /// Largest `?limit=`.
    pub max_list_limit: usize,
}

impl Default for MessagesSettings {
    fn default() -> Self {
        Self {
            default_list_limit: 50,
            max_list_limit: 500,
        }
    }
}

/// The `[mail]` table: how long stored mail is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MailSettings {
    /// Messages older than this are removed; unset keeps them (`7d`, `12h`).
    #[serde(with = "optional_duration")]
    pub retention_max_age: Option<Duration>,
    /// The oldest messages of a mailbox are removed while it holds more
    /// than this many; unset keeps them.
    #[serde(with = "optional_number")]
    pub retention_max_messages: Option<u64>,
    /// How often retention runs (also once at start-up).
    #[serde(with = "duration")]
    pub sweep_interval: Duration,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            retention_max_age: None,
            retention_max_messages: None,
            sweep_interval: Duration::from_secs(60),
        }
    }
}

impl MailSettings {
    /// What retention keeps.
    pub fn retention(&self) -> MailRetention {
        MailRetention {
            max_age: self.retention_max_age,
            max_messages: self.retention_max_messages,
        }
    }
}

/// The `[smtp]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SmtpSettings {
    /// Local parts that have a mailbox (`you`, `another`).
    #[serde(deserialize_with = "comma_list")]
    pub users: Vec<String>,
    /// Domains mail is accepted for (compared without regard to case).
    #[serde(deserialize_with = "comma_list")]
    pub domains: Vec<String>,
    /// Largest message, in bytes (announced as `SIZE`).
    pub max_message_bytes: u64,
    /// Most recipients of one message.
    pub max_recipients: usize,
    /// Longest command line, in bytes with its CRLF (longer: 500).
    pub max_command_line_bytes: usize,
    /// Longest line inside a message, in bytes (longer: 500 and the session ends).
    pub max_data_line_bytes: usize,
    /// Longest one command line may take to arrive, the wait for it
    /// included (then 421 and close).
    pub command_timeout_ms: u64,
    /// Silence allowed within a message's DATA (then 421 and close).
    pub data_timeout_ms: u64,
    /// Longest from a message's 354 to its final dot (then 421 and close).
    pub message_timeout_ms: u64,
    /// Most sessions open at once.
    pub max_sessions: usize,
    /// Most sessions open at once from one client address.
    pub max_sessions_per_client: usize,
    /// The user whose mailbox receives `postmaster` (RFC 5321, 4.5.1); one
    /// of `users`. Unset: the first of `users`.
    pub postmaster: Option<String>,
    /// PEM certificate chain for STARTTLS (with `tls_key`); unset: no STARTTLS.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for STARTTLS (with `tls_cert`).
    pub tls_key: Option<PathBuf>,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        Self {
            smtp_listen: SocketAddr::from(([0, 0, 0, 0], 2525)),
            // Loopback: the image and compose set the compose network.
            admin_listen: SocketAddr::from(([127, 0, 0, 1], 9090)),
            listen: None,
            messages: MessagesSettings::default(),
            data_dir: default_data_dir(),
            service_name: None,
            log_format: LogFormat::Text,
            hostname: "inlet-smtp".to_owned(),
            smtp: SmtpSettings::default(),
            http: HttpSettings {
                allowed_hosts: vec!["*".to_owned()],
                ..HttpSettings::default()
            },
            access: AccessSettings::default(),
            gateway_url: None,
            publish: PublishSettings::default(),
            events: FeedSettings::default(),
            mail: MailSettings::default(),
            disk: DiskSettings::default(),
        }
    }
}

impl Default for SmtpSettings {
    fn default() -> Self {
        Self {
            users: vec!["you".to_owned(), "another".to_owned()],
            domains: vec!["localhost".to_owned(), "example.com".to_owned()],
            max_message_bytes: 10 * 1024 * 1024,
            max_recipients: 100,
            max_command_line_bytes: 1024,
            max_data_line_bytes: 65536,
            command_timeout_ms: 60_000,
            data_timeout_ms: 60_000,
            message_timeout_ms: 300_000,
            max_sessions: 1000,
            max_sessions_per_client: 20,
            postmaster: None,
            tls_cert: None,
            tls_key: None,
        }
    }
}

impl SmtpConfig {
    /// Where the mailboxes are.
    pub fn mail_dir(&self) -> PathBuf {
        self.data_dir.join("mail")
    }
}

impl Validate for SmtpConfig {
    fn validate(&self, problems: &mut Vec<ConfigProblem>) {
        self.http.validate(problems);
        check_nonzero(
            problems,
            &[
                (
                    "messages.default_list_limit",
                    self.messages.default_list_limit as u64,
                ),
                (
                    "messages.max_list_limit",
                    self.messages.max_list_limit as u64,
                ),
                (
                    "mail.sweep_interval",
                    self.mail.sweep_interval.as_millis() as u64,
                ),
                (
                    "mail.retention_max_messages",
                    self.mail.retention_max_messages.unwrap_or(1),
                ),
            ],
        );
        self.access.validate(problems);
        let smtp = &self.smtp;
        check_nonzero(
            problems,
            &[
                ("smtp.max_message_bytes", smtp.max_message_bytes),
                ("smtp.max_recipients", smtp.max_recipients as u64),
                ("smtp.max_sessions", smtp.max_sessions as u64),
                (
                    "smtp.max_sessions_per_client",
                    smtp.max_sessions_per_client as u64,
                ),
                ("smtp.command_timeout_ms", smtp.command_timeout_ms),
                ("smtp.data_timeout_ms", smtp.data_timeout_ms),
                ("smtp.message_timeout_ms", smtp.message_timeout_ms),
            ],
        );
        check(
            problems,
            !smtp.users.is_empty(),
            "smtp.users",
            "must name at least one user",
        );
        check(
            problems,
            smtp.postmaster
                .as_ref()
                .is_none_or(|p| smtp.users.contains(p)),
            "smtp.postmaster",
            "must be one of smtp.users",
        );
        for user in &smtp.users {
            check(
                problems,
                is_safe_user(user),
                "smtp.users",
                "each user must be 1-64 of a-z, 0-9, '.', '_', '-', not starting with '.'",
            );
        }
        check(
            problems,
            !smtp.domains.is_empty(),
            "smtp.domains",
            "must name at least one domain",
        );
        check(
            problems,
            !self.hostname.is_empty() && self.hostname.chars().all(|c| c.is_ascii_graphic()),
            "hostname",
            "must be a host name (printable ASCII, no spaces)",
        );
        check_data_dir(problems, &self.data_dir);
        self.publish.validate(problems);
        if self.events.backend == FeedBackend::Nats {
            self.events.nats.validate(problems);
        }
    }
}

inlet_common::impl_service_config!(SmtpConfig, health_listen: |c| c.admin_listen);

#[cfg(test)]
mod tests {
    use inlet_common::config::{load, ConfigSource};

    use super::*;

    fn load_env(pairs: &[(&str, &str)]) -> Result<SmtpConfig, String> {
        load(&ConfigSource::from_pairs(pairs.iter().copied())).map_err(|e| e.to_string())
    }

    #[test]
    fn the_seeds_mailboxes_are_the_default() {
        let config = load_env(&[]).unwrap();
        assert_eq!(config.smtp.users, ["you", "another"]);
        assert_eq!(config.smtp.domains, ["localhost", "example.com"]);
        assert_eq!(config.smtp_listen.port(), 2525);
        assert_eq!(config.smtp.max_message_bytes, 10 * 1024 * 1024);
    }

    #[test]
    fn the_admin_listener_reads_the_shared_http_table() {
        let config = load_env(&[
            ("INLET_HTTP__SHUTDOWN_TIMEOUT_MS", "2500"),
            ("INLET_HTTP__WORKERS", "1"),
        ])
        .unwrap();
        assert_eq!(config.http.shutdown_timeout().as_millis(), 2500);
        assert_eq!(config.http.workers, 1);
        assert_eq!(config.http.allowed_hosts, ["*"]);
        let err = load_env(&[("INLET_HTTP__BODY_TIMEOUT_MS", "0")]).unwrap_err();
        assert!(err.contains("http.body_timeout_ms"), "{err}");
    }

    #[test]
    fn users_and_domains_come_from_one_variable_each() {
        let config = load_env(&[
            ("INLET_SMTP__USERS", "alice, bob"),
            ("INLET_SMTP__DOMAINS", "example.org"),
        ])
        .unwrap();
        assert_eq!(config.smtp.users, ["alice", "bob"]);
        assert_eq!(config.smtp.domains, ["example.org"]);
    }

    #[test]
    fn a_user_that_could_be_a_path_is_refused() {
        for bad in ["../x", "a/b", ".hidden", "you/..", "x y"] {
            let err = load_env(&[("INLET_SMTP__USERS", &format!("you,{bad}"))]).unwrap_err();
            assert!(err.contains("smtp.users"), "{bad}: {err}");
        }
    }
}
