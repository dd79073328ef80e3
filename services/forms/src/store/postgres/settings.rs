//! The `[store.postgres]` table: where the PostgreSQL store is and how it
//! talks to it.

use std::str::FromStr;
use std::time::Duration;

use inlet_common::config::{check, check_nonzero, ConfigProblem};
use serde::{Deserialize, Serialize};

/// How the forms service reaches PostgreSQL (`store.backend = "postgres"`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PostgresSettings {
    /// A libpq connection URL or key=value string,
    /// e.g. `postgres://inlet:secret@postgres:5432/inlet`. Never logged.
    pub url: String,
    /// The table submissions go into, made at start if missing.
    pub table: String,
    /// Most connections this replica opens.
    pub pool_size: usize,
    /// Batches committed at once; each takes one connection while it commits.
    pub writers: usize,
    /// How long connecting (and waiting for a free connection) may take
    /// before a request is answered 503.
    pub connect_timeout_ms: u64,
    /// How long start-up waits for PostgreSQL before giving up.
    pub start_timeout_ms: u64,
}

impl Default for PostgresSettings {
    fn default() -> Self {
        Self {
            url: String::new(),
            table: "form_submissions".to_owned(),
            pool_size: 16,
            writers: 2,
            connect_timeout_ms: 5000,
            start_timeout_ms: 30_000,
        }
    }
}

impl std::fmt::Debug for PostgresSettings {
    /// Everything but the URL, which may carry a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresSettings")
            .field("url", &"<hidden>")
            .field("table", &self.table)
            .field("pool_size", &self.pool_size)
            .field("writers", &self.writers)
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .field("start_timeout_ms", &self.start_timeout_ms)
            .finish()
    }
}

impl PostgresSettings {
    /// Adds a problem for each key that is wrong.
    pub fn validate(&self, problems: &mut Vec<ConfigProblem>) {
        check_nonzero(
            problems,
            &[
                ("store.postgres.pool_size", self.pool_size as u64),
                ("store.postgres.writers", self.writers as u64),
                ("store.postgres.connect_timeout_ms", self.connect_timeout_ms),
                ("store.postgres.start_timeout_ms", self.start_timeout_ms),
            ],
        );
        check(
            problems,
            tokio_postgres::Config::from_str(&self.url).is_ok() && !self.url.trim().is_empty(),
            "store.postgres.url",
            "must be a PostgreSQL URL, e.g. postgres://inlet:secret@postgres:5432/inlet",
        );
        check(
            problems,
            is_identifier(&self.table),
            "store.postgres.table",
            "must be a lower-case name of letters, digits and `_` (at most 48), starting with a letter",
        );
        check(
            problems,
            self.writers <= self.pool_size,
            "store.postgres.writers",
            "must be at most store.postgres.pool_size, or reads would find no connection",
        );
    }

    /// The parsed connection settings, with the connect timeout applied.
    pub fn connection(&self) -> Result<tokio_postgres::Config, tokio_postgres::Error> {
        let mut config = tokio_postgres::Config::from_str(&self.url)?;
        config.connect_timeout(self.connect_timeout());
        if config.get_application_name().is_none() {
            config.application_name("inlet-forms");
        }
        Ok(config)
    }

    /// `connect_timeout_ms` as a duration.
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms)
    }
}

/// A name that needs no quoting in SQL, with room for the suffixes of the
/// table's indexes.
fn is_identifier(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z'))
        && name.len() <= 48
        && bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_need_no_quoting() {
        for good in ["form_submissions", "t", "forms2"] {
            assert!(is_identifier(good), "{good}");
        }
        for bad in [
            "",
            "Forms",
            "2forms",
            "a-b",
            "a;drop table x",
            &"a".repeat(49),
        ] {
            assert!(!is_identifier(bad), "{bad}");
        }
    }

    #[test]
    fn the_url_is_never_printed() {
        let settings = PostgresSettings {
            url: "postgres://inlet:hunter2@db/inlet".to_owned(),
            ..PostgresSettings::default()
        };
        assert!(!format!("{settings:?}").contains("hunter2"));
    }
}
