//! Layered, typed configuration: built-in defaults → optional TOML file → `INLET_` variables.
//!
//! Every problem is collected before failing, so one start-up names every bad key
//! at once. The environment is passed in as a map, so tests never have to mutate
//! the process environment.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

use config::{Config, Environment, File, FileFormat, Value, ValueKind};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Exit code for a configuration the service cannot start with (BSD `EX_USAGE`).
pub const EX_USAGE: u8 = 64;

/// Prefix of every environment variable the services read as configuration.
pub const ENV_PREFIX: &str = "INLET";

/// How many distinct bad keys one load reports before giving up looking for more.
const MAX_REPORTED_PROBLEMS: usize = 64;

/// Where configuration comes from: an optional file and an environment map.
#[derive(Debug, Clone, Default)]
pub struct ConfigSource {
    /// Optional TOML file; when named it must exist and parse.
    pub file: Option<PathBuf>,
    /// Environment variables; only `INLET_`-prefixed ones are read.
    pub env: HashMap<String, String>,
}

impl ConfigSource {
    /// The process environment plus an optional file (from `--config` or `INLET_CONFIG`).
    pub fn from_process(file: Option<PathBuf>) -> Self {
        Self {
            file,
            env: std::env::vars().collect(),
        }
    }

    /// A source with only the given `INLET_*` variables, for tests and embedding.
    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Self {
            file: None,
            env: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }
}

/// One bad configuration value: which key, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// Dotted key as in the TOML file, e.g. `limits.max_body_bytes`.
    pub key: String,
    /// What is wrong, in words a person understands.
    pub message: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (env {}): {}",
            self.key,
            env_name_for(&self.key),
            self.message
        )
    }
}

/// Short names for keys of nested tables that deployments set most: each
/// sets the dotted key unless its long form (`INLET_ACCESS__ADMIN_TOKEN`)
/// is set too.
pub const ENV_ALIASES: &[(&str, &str)] = &[
    ("INLET_ADMIN_TOKEN", "access.admin_token"),
    ("INLET_READ_TOKEN", "access.read_token"),
    ("INLET_PUBLISH_TOKEN", "access.publish_token"),
    ("INLET_PUBLISH_TOKEN_FILE", "access.publish_token_file"),
];

/// The environment variable that sets a dotted key (its short alias if it has one).
pub fn env_name_for(key: &str) -> String {
    ENV_ALIASES
        .iter()
        .find(|(_, target)| *target == key)
        .map_or_else(
            || format!("{ENV_PREFIX}_{}", key.replace('.', "__").to_uppercase()),
            |(alias, _)| (*alias).to_owned(),
        )
}

/// The long environment variable of a dotted key, whatever its alias.
fn long_env_name(key: &str) -> String {
    format!("{ENV_PREFIX}_{}", key.replace('.', "__").to_uppercase())
}

/// Configuration that cannot be used; lists every problem found.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file named by `--config`/`INLET_CONFIG` is missing or is not valid TOML.
    #[error("cannot read config file {path}: {reason}")]
    File {
        /// The file that was named.
        path: PathBuf,
        /// Why it could not be read.
        reason: String,
    },
    /// One or more keys hold values the service cannot use.
    #[error("invalid configuration:\n{}", list(.0))]
    Invalid(Vec<ConfigProblem>),
}

impl ConfigError {
    /// The bad keys, empty for a file error.
    pub fn problems(&self) -> &[ConfigProblem] {
        match self {
            ConfigError::Invalid(problems) => problems,
            ConfigError::File { .. } => &[],
        }
    }
}

fn list(problems: &[ConfigProblem]) -> String {
    problems
        .iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Checks that go beyond types: ranges, relations between keys.
pub trait Validate {
    /// Pushes one problem per bad key.
    fn validate(&self, problems: &mut Vec<ConfigProblem>);
}

/// Helper for [`Validate`] impls: a problem when `ok` is false.
pub fn check(problems: &mut Vec<ConfigProblem>, ok: bool, key: &str, message: &str) {
    if !ok {
        problems.push(ConfigProblem {
            key: key.to_owned(),
            message: message.to_owned(),
        });
    }
}

/// Helper for [`Validate`] impls: one problem per key whose value is 0.
pub fn check_nonzero(problems: &mut Vec<ConfigProblem>, keys: &[(&str, u64)]) {
    for (key, value) in keys {
        check(problems, *value > 0, key, "must be at least 1");
    }
}

/// For `#[serde(deserialize_with = "…")]` on a list key: takes a TOML array,
/// or one string of comma-separated items, which is how a list fits in one
/// `INLET_*` variable (`INLET_WEBSOCKET__ALLOWED_ORIGINS=https://a,https://b`).
/// Each item is parsed with its `FromStr`; blank items are skipped.
pub fn comma_list<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: fmt::Display,
{
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        Many(Vec<String>),
        One(String),
    }
    let items = match <Option<OneOrMany> as serde::Deserialize>::deserialize(deserializer)? {
        None => Vec::new(),
        Some(OneOrMany::Many(items)) => items,
        Some(OneOrMany::One(text)) => text.split(',').map(str::to_owned).collect(),
    };
    items
        .iter()
        .map(|item| item.trim())
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.parse()
                .map_err(|err| serde::de::Error::custom(format!("{item:?}: {err}")))
        })
        .collect()
}

/// The HTTP address every service listens on by default (`INLET_LISTEN`).
pub fn default_listen() -> std::net::SocketAddr {
    std::net::SocketAddr::from(([0, 0, 0, 0], 8080))
}

/// The shared volume's mount point by default (`INLET_DATA_DIR`).
pub fn default_data_dir() -> PathBuf {
    PathBuf::from("/data")
}

/// Helper for [`Validate`] impls: the `data_dir` key must name a folder.
pub fn check_data_dir(problems: &mut Vec<ConfigProblem>, data_dir: &std::path::Path) {
    check(
        problems,
        !data_dir.as_os_str().is_empty(),
        "data_dir",
        "must not be empty",
    );
}

/// Loads `T` from its defaults, the optional file and the `INLET_` variables.
///
/// A value that does not fit its type is reported and replaced by its default so
/// that loading can go on and find the next bad key; the result is an error
/// naming all of them.
pub fn load<T>(source: &ConfigSource) -> Result<T, ConfigError>
where
    T: DeserializeOwned + Serialize + Default + Validate,
{
    let defaults = Config::try_from(&T::default()).map_err(|e| {
        ConfigError::Invalid(vec![ConfigProblem {
            key: "<defaults>".into(),
            message: e.to_string(),
        }])
    })?;
    let mut env: config::Map<String, String> = source
        .env
        .iter()
        .filter(|(k, _)| k.starts_with(&format!("{ENV_PREFIX}_")))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (alias, key) in ENV_ALIASES {
        if let Some(value) = env.remove(*alias) {
            env.entry(long_env_name(key)).or_insert(value);
        }
    }

    let mut problems = Vec::new();
    let mut replaced: Vec<(String, Value)> = Vec::new();
    loop {
        let mut builder = Config::builder().add_source(defaults.clone());
        if let Some(path) = &source.file {
            builder = builder.add_source(File::from(path.as_path()).format(FileFormat::Toml));
        }
        builder = builder.add_source(
            Environment::with_prefix(ENV_PREFIX)
                .prefix_separator("_")
                .separator("__")
                .source(Some(env.clone())),
        );
        for (key, value) in &replaced {
            builder = builder
                .set_override(key.as_str(), value.clone())
                .expect("override keys come from serde paths");
        }
        let merged = builder.build().map_err(|e| ConfigError::File {
            path: source.file.clone().unwrap_or_default(),
            reason: e.to_string(),
        })?;
        match serde_path_to_error::deserialize::<_, T>(merged.cache) {
            Ok(value) => {
                value.validate(&mut problems);
                problems.sort_by(|a, b| a.key.cmp(&b.key));
                return if problems.is_empty() {
                    Ok(value)
                } else {
                    Err(ConfigError::Invalid(problems))
                };
            }
            Err(err) => {
                let key = err.path().to_string();
                let message = err.into_inner().to_string();
                let already_seen = replaced.iter().any(|(k, _)| *k == key);
                problems.push(ConfigProblem {
                    key: key.clone(),
                    message,
                });
                if already_seen || problems.len() >= MAX_REPORTED_PROBLEMS {
                    problems.sort_by(|a, b| a.key.cmp(&b.key));
                    return Err(ConfigError::Invalid(problems));
                }
                let fallback = defaults
                    .get::<Value>(&key)
                    .unwrap_or_else(|_| Value::new(None, ValueKind::Nil));
                replaced.push((key, fallback));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    #[serde(default)]
    struct Sample {
        listen: std::net::SocketAddr,
        name: Option<String>,
        limits: Limits,
    }

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    #[serde(default)]
    struct Limits {
        max_body_bytes: u64,
        max_fields: u32,
    }

    impl Default for Sample {
        fn default() -> Self {
            Self {
                listen: "0.0.0.0:8080".parse().unwrap(),
                name: None,
                limits: Limits::default(),
            }
        }
    }

    impl Default for Limits {
        fn default() -> Self {
            Self {
                max_body_bytes: 10,
                max_fields: 5,
            }
        }
    }

    impl Validate for Sample {
        fn validate(&self, problems: &mut Vec<ConfigProblem>) {
            check(
                problems,
                self.limits.max_fields > 0,
                "limits.max_fields",
                "must be at least 1",
            );
        }
    }

    #[test]
    fn defaults_apply_without_any_source() {
        let loaded: Sample = load(&ConfigSource::default()).unwrap();
        assert_eq!(loaded, Sample::default());
    }

    #[test]
    fn env_overrides_nested_keys_and_parses_numbers() {
        let source = ConfigSource::from_pairs([
            ("INLET_LIMITS__MAX_BODY_BYTES", "1048576"),
            ("INLET_NAME", "x"),
            ("UNRELATED", "1"),
        ]);
        let loaded: Sample = load(&source).unwrap();
        assert_eq!(loaded.limits.max_body_bytes, 1_048_576);
        assert_eq!(loaded.name.as_deref(), Some("x"));
    }

    #[test]
    fn file_then_env_layering() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("inlet.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:1\"\n[limits]\nmax_body_bytes = 7\nmax_fields = 9\n",
        )
        .unwrap();
        let mut source = ConfigSource::from_pairs([("INLET_LIMITS__MAX_FIELDS", "3")]);
        source.file = Some(file);
        let loaded: Sample = load(&source).unwrap();
        assert_eq!(loaded.listen.port(), 1);
        assert_eq!(loaded.limits.max_body_bytes, 7);
        assert_eq!(loaded.limits.max_fields, 3);
    }

    #[test]
    fn every_bad_key_is_named() {
        let source = ConfigSource::from_pairs([
            ("INLET_LISTEN", "not-an-address"),
            ("INLET_LIMITS__MAX_BODY_BYTES", "lots"),
            ("INLET_LIMITS__MAX_FIELDS", "0"),
        ]);
        let err = load::<Sample>(&source).unwrap_err();
        let keys: Vec<_> = err.problems().iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            ["limits.max_body_bytes", "limits.max_fields", "listen"]
        );
        let text = err.to_string();
        assert!(text.contains("INLET_LIMITS__MAX_BODY_BYTES"), "{text}");
    }

    #[test]
    fn missing_config_file_is_an_error() {
        let source = ConfigSource {
            file: Some("/nonexistent/inlet.toml".into()),
            env: HashMap::new(),
        };
        assert!(matches!(
            load::<Sample>(&source),
            Err(ConfigError::File { .. })
        ));
    }
}
