//! The inbox's typed configuration (docs/inbox.md lists every key).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use inlet_common::access::AccessSettings;
use inlet_common::config::{
    check, check_data_dir, check_nonzero, default_data_dir, default_listen, ConfigProblem, Validate,
};
use inlet_common::log_format::LogFormat;
use inlet_common::retention::duration;
use inlet_http::settings::HttpSettings;
use serde::{Deserialize, Deserializer, Serialize};

/// Everything `inlet-inbox` can be configured with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct InboxConfig {
    /// HTTP listen address (`INLET_LISTEN`).
    pub listen: SocketAddr,
    /// A listener with only `/healthz`, `/readyz` and `/metrics`, open to
    /// anyone (`INLET_ADMIN_LISTEN`); unset, none.
    pub admin_listen: Option<SocketAddr>,
    /// Root of a volume; the index lives in `<data_dir>/inbox/`.
    pub data_dir: PathBuf,
    /// `service.name` for traces; unset falls back to `OTEL_SERVICE_NAME`, then `inlet-inbox`.
    pub service_name: Option<String>,
    /// `text` or `json` log lines (`INLET_LOG_FORMAT`).
    pub log_format: LogFormat,
    /// Timeouts, workers and shutdown deadline.
    pub http: HttpSettings,
    /// Who may sign in (`INLET_ADMIN_TOKEN`, `INLET_READ_TOKEN`); the inbox
    /// also reads and deletes at the services with the admin token.
    pub access: AccessSettings,
    /// Where the items come from, and how the pages behave.
    pub inbox: InboxSettings,
}

/// The `[inbox]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct InboxSettings {
    /// forms' HTTP base URL (`http://forms:8080`); unset: no submissions.
    #[serde(deserialize_with = "empty_as_none")]
    pub forms_url: Option<String>,
    /// uploads' HTTP base URL; unset: no files.
    #[serde(deserialize_with = "empty_as_none")]
    pub uploads_url: Option<String>,
    /// smtp's mail API base URL; unset: no mail.
    #[serde(deserialize_with = "empty_as_none")]
    pub mail_url: Option<String>,
    /// The gateway's HTTP base URL, whose `/events` the inbox follows;
    /// unset: the index is brought up to date by listing only.
    #[serde(deserialize_with = "empty_as_none")]
    pub gateway_url: Option<String>,
    /// Where "View trace" points: Jaeger's UI as the reader's browser reaches it.
    pub jaeger_ui_url: String,
    /// Rows on one page of the list.
    pub page_size: u32,
    /// Items asked for in one page of a service's list (a service that
    /// takes fewer is asked for half as many until it does).
    pub list_batch: u32,
    /// How often every list is walked in full, to catch what the feed
    /// could not say (a gateway restarted, an expiry while disconnected).
    #[serde(with = "duration")]
    pub reconcile_interval: Duration,
    /// Longest wait for one answer from a service.
    #[serde(with = "duration")]
    pub request_timeout: Duration,
    /// Longest wait before reconnecting to the feed after it dropped.
    #[serde(with = "duration")]
    pub feed_retry_max: Duration,
    /// Pages following the live list at once; one more is answered 503.
    pub max_live_pages: usize,
}

impl Default for InboxConfig {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            admin_listen: None,
            data_dir: default_data_dir(),
            service_name: None,
            log_format: LogFormat::default(),
            http: HttpSettings::default(),
            access: AccessSettings::default(),
            inbox: InboxSettings::default(),
        }
    }
}

impl Default for InboxSettings {
    fn default() -> Self {
        Self {
            forms_url: None,
            uploads_url: None,
            mail_url: None,
            gateway_url: None,
            jaeger_ui_url: "http://localhost:16686".into(),
            page_size: 50,
            list_batch: 1000,
            reconcile_interval: Duration::from_secs(15 * 60),
            request_timeout: Duration::from_secs(10),
            feed_retry_max: Duration::from_secs(5),
            max_live_pages: 256,
        }
    }
}

impl InboxConfig {
    /// The index file.
    pub fn index_path(&self) -> PathBuf {
        self.data_dir.join("inbox").join("index.sqlite3")
    }
}

impl Validate for InboxConfig {
    fn validate(&self, problems: &mut Vec<ConfigProblem>) {
        let inbox = &self.inbox;
        check_nonzero(
            problems,
            &[
                ("inbox.page_size", inbox.page_size as u64),
                ("inbox.list_batch", inbox.list_batch as u64),
                (
                    "inbox.reconcile_interval",
                    inbox.reconcile_interval.as_millis() as u64,
                ),
                (
                    "inbox.request_timeout",
                    inbox.request_timeout.as_millis() as u64,
                ),
                (
                    "inbox.feed_retry_max",
                    inbox.feed_retry_max.as_millis() as u64,
                ),
                ("inbox.max_live_pages", inbox.max_live_pages as u64),
            ],
        );
        check(
            problems,
            inbox.page_size <= 500,
            "inbox.page_size",
            "must be at most 500",
        );
        for (key, url) in [
            ("inbox.forms_url", &inbox.forms_url),
            ("inbox.uploads_url", &inbox.uploads_url),
            ("inbox.mail_url", &inbox.mail_url),
            ("inbox.gateway_url", &inbox.gateway_url),
        ] {
            if let Some(url) = url {
                check(
                    problems,
                    is_http_url(url),
                    key,
                    "must be an http:// or https:// URL",
                );
            }
        }
        check(
            problems,
            is_http_url(&inbox.jaeger_ui_url),
            "inbox.jaeger_ui_url",
            "must be an http:// or https:// URL",
        );
        let any_source = [&inbox.forms_url, &inbox.uploads_url, &inbox.mail_url]
            .iter()
            .any(|url| url.is_some());
        check(
            problems,
            !any_source || self.access.admin_token.is_some(),
            "access.admin_token",
            "must be set: the inbox reads and deletes at the services with it",
        );
        check_data_dir(problems, &self.data_dir);
        self.http.validate(problems);
        self.access.validate(problems);
    }
}

fn is_http_url(url: &str) -> bool {
    reqwest::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
}

/// An unset and an empty value are the same: compose passes `${VAR:-}`.
fn empty_as_none<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    let value = Option::<String>::deserialize(deserializer)?;
    Ok(value
        .map(|v| v.trim().trim_end_matches('/').to_owned())
        .filter(|v| !v.is_empty()))
}

inlet_common::impl_service_config!(InboxConfig, health_listen: |c| c.admin_listen.unwrap_or(c.listen));

#[cfg(test)]
mod tests {
    use inlet_common::config::{load, ConfigSource};

    use super::*;

    fn load_env(pairs: &[(&str, &str)]) -> Result<InboxConfig, String> {
        load(&ConfigSource::from_pairs(pairs.iter().copied())).map_err(|e| e.to_string())
    }

    #[test]
    fn sources_are_urls_and_need_the_admin_token() {
        let config = load_env(&[]).unwrap();
        assert_eq!(config.inbox.jaeger_ui_url, "http://localhost:16686");
        assert_eq!(config.inbox.forms_url, None);
        let err = load_env(&[("INLET_INBOX__FORMS_URL", "http://forms:8080")]).unwrap_err();
        assert!(err.contains("access.admin_token"), "{err}");
        let config = load_env(&[
            ("INLET_INBOX__FORMS_URL", "http://forms:8080/"),
            ("INLET_INBOX__MAIL_URL", ""),
            ("INLET_ADMIN_TOKEN", "0123456789abcdef0123"),
        ])
        .unwrap();
        assert_eq!(config.inbox.forms_url.as_deref(), Some("http://forms:8080"));
        assert_eq!(config.inbox.mail_url, None, "empty is unset");
        let err = load_env(&[
            ("INLET_INBOX__GATEWAY_URL", "gateway:8080"),
            ("INLET_INBOX__PAGE_SIZE", "0"),
        ])
        .unwrap_err();
        assert!(
            err.contains("inbox.gateway_url") && err.contains("inbox.page_size"),
            "{err}"
        );
    }
}
