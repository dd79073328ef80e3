//! The `[access]` table: the set's credentials and how hard failures are slowed.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::config::{check, check_nonzero, ConfigProblem};

/// Shortest token accepted: a short one could be guessed despite the throttle.
pub const MIN_TOKEN_CHARS: usize = 16;

/// A configured secret: it never shows in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for comparing or sending; never for logging.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(|s| Self(s.trim().to_owned()))
    }
}

/// An unset and an empty value are the same: compose passes `${VAR:-}`.
fn empty_as_none<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Secret>, D::Error> {
    let value = Option::<Secret>::deserialize(deserializer)?;
    Ok(value.filter(|secret| !secret.0.is_empty()))
}

/// The `[access]` table, the same in every service.
///
/// `admin_token` (`INLET_ADMIN_TOKEN`) may read everything stored and follow
/// the feed, and delete once deletion exists; `read_token`
/// (`INLET_READ_TOKEN`) may only read. With neither set, nothing stored can
/// be read: the read endpoints answer 403 and say which variable to set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AccessSettings {
    /// The token with every scope (`INLET_ADMIN_TOKEN`).
    #[serde(deserialize_with = "empty_as_none")]
    pub admin_token: Option<Secret>,
    /// A token that may read but not delete (`INLET_READ_TOKEN`).
    #[serde(deserialize_with = "empty_as_none")]
    pub read_token: Option<Secret>,
    /// The secret publishers present to the gateway's event ingest
    /// (`INLET_PUBLISH_TOKEN`).
    #[serde(deserialize_with = "empty_as_none")]
    pub publish_token: Option<Secret>,
    /// A file holding the publish secret instead (`INLET_PUBLISH_TOKEN_FILE`).
    /// The gateway creates it with a random secret when it is missing;
    /// publishers read it when they connect.
    pub publish_token_file: Option<PathBuf>,
    /// Failed attempts one client address may make in a burst before it is
    /// answered 429 without its credential being looked at.
    pub failure_burst: u32,
    /// Failed attempts per second a client address earns back after a burst.
    pub failures_per_second: u32,
    /// How long a signed-in page session lasts, in milliseconds.
    pub session_ttl_ms: u64,
}

impl Default for AccessSettings {
    fn default() -> Self {
        Self {
            admin_token: None,
            read_token: None,
            publish_token: None,
            publish_token_file: None,
            failure_burst: 5,
            failures_per_second: 2,
            session_ttl_ms: 12 * 60 * 60 * 1000,
        }
    }
}

impl AccessSettings {
    /// How long a page session lasts.
    pub fn session_ttl(&self) -> Duration {
        Duration::from_millis(self.session_ttl_ms)
    }

    /// Adds a problem for each bad key.
    pub fn validate(&self, problems: &mut Vec<ConfigProblem>) {
        for (key, token) in [
            ("access.admin_token", &self.admin_token),
            ("access.read_token", &self.read_token),
            ("access.publish_token", &self.publish_token),
        ] {
            if let Some(token) = token {
                check(
                    problems,
                    token.expose().chars().count() >= MIN_TOKEN_CHARS,
                    key,
                    "must be at least 16 characters (e.g. `openssl rand -hex 32`)",
                );
                check(
                    problems,
                    token.expose().bytes().all(|b| b.is_ascii_graphic()),
                    key,
                    "must be printable ASCII without spaces (it travels in an HTTP header)",
                );
            }
        }
        if let (Some(admin), Some(read)) = (&self.admin_token, &self.read_token) {
            check(
                problems,
                admin != read,
                "access.read_token",
                "must differ from access.admin_token",
            );
        }
        check_nonzero(
            problems,
            &[
                ("access.failure_burst", u64::from(self.failure_burst)),
                (
                    "access.failures_per_second",
                    u64::from(self.failures_per_second),
                ),
                ("access.session_ttl_ms", self.session_ttl_ms),
            ],
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_prints() {
        let settings = AccessSettings {
            admin_token: Some(Secret::new("correct-horse-battery-staple")),
            ..AccessSettings::default()
        };
        let shown = format!("{settings:?}");
        assert!(!shown.contains("correct-horse"), "{shown}");
        assert!(shown.contains("[redacted]"), "{shown}");
    }

    #[derive(Debug, Default, Serialize, Deserialize)]
    #[serde(default)]
    struct WithAccess {
        access: AccessSettings,
    }

    impl crate::config::Validate for WithAccess {
        fn validate(&self, problems: &mut Vec<ConfigProblem>) {
            self.access.validate(problems);
        }
    }

    #[test]
    fn the_short_variables_set_the_table_and_empty_means_unset() {
        let source = crate::config::ConfigSource::from_pairs([
            ("INLET_ADMIN_TOKEN", "0123456789012345678901"),
            ("INLET_READ_TOKEN", ""),
            ("INLET_PUBLISH_TOKEN_FILE", "/run/inlet/publish-token"),
        ]);
        let loaded: WithAccess = crate::config::load(&source).unwrap();
        assert_eq!(
            loaded.access.admin_token,
            Some(Secret::new("0123456789012345678901"))
        );
        assert_eq!(loaded.access.read_token, None);
        assert_eq!(
            loaded.access.publish_token_file,
            Some(PathBuf::from("/run/inlet/publish-token"))
        );
        let long_wins = crate::config::ConfigSource::from_pairs([
            ("INLET_ADMIN_TOKEN", "short-alias-value-000"),
            ("INLET_ACCESS__ADMIN_TOKEN", "long-form-value-000000"),
        ]);
        let loaded: WithAccess = crate::config::load(&long_wins).unwrap();
        assert_eq!(
            loaded.access.admin_token,
            Some(Secret::new("long-form-value-000000"))
        );
        let err = crate::config::load::<WithAccess>(&crate::config::ConfigSource::from_pairs([(
            "INLET_ADMIN_TOKEN",
            "short",
        )]))
        .unwrap_err()
        .to_string();
        assert!(err.contains("INLET_ADMIN_TOKEN"), "{err}");
        assert!(!err.contains("short\""), "the value is not echoed: {err}");
    }

    #[test]
    fn short_or_spaced_tokens_are_refused() {
        let mut problems = Vec::new();
        AccessSettings {
            admin_token: Some(Secret::new("short")),
            read_token: Some(Secret::new("has a space in the middle")),
            ..AccessSettings::default()
        }
        .validate(&mut problems);
        let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            ["access.admin_token", "access.read_token"],
            "{problems:?}"
        );
    }
}
