//! The secret publishers present to the gateway's event ingest.
//!
//! Given as a value (`INLET_PUBLISH_TOKEN`), or as a file
//! (`INLET_PUBLISH_TOKEN_FILE`) that the gateway creates with a random
//! secret when it is missing: compose mounts one small volume in the
//! gateway and the publishers, so the set authenticates with no set-up.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::settings::{AccessSettings, Secret};

/// Bytes of randomness in a generated secret (written as hex).
const GENERATED_BYTES: usize = 32;

/// Where the publish secret comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishToken {
    /// Given in the configuration.
    Value(Secret),
    /// Kept in a file.
    File(PathBuf),
}

impl PublishToken {
    /// The source `settings` names; a value wins over a file.
    pub fn from_settings(settings: &AccessSettings) -> Option<Self> {
        match (&settings.publish_token, &settings.publish_token_file) {
            (Some(value), _) => Some(Self::Value(value.clone())),
            (None, Some(path)) => Some(Self::File(path.clone())),
            (None, None) => None,
        }
    }

    /// The secret as it is now; `None` while its file does not exist yet
    /// (the gateway has not started) or cannot be read.
    pub fn current(&self) -> Option<Secret> {
        match self {
            Self::Value(secret) => Some(secret.clone()),
            Self::File(path) => read(path).ok().flatten(),
        }
    }

    /// The secret, creating its file with a random one if it is missing
    /// (the gateway's side). Two processes racing both end with the same one.
    pub fn ensure(&self) -> io::Result<Secret> {
        match self {
            Self::Value(secret) => Ok(secret.clone()),
            Self::File(path) => {
                if let Some(secret) = read(path)? {
                    return Ok(secret);
                }
                match create(path) {
                    Ok(secret) => {
                        tracing::info!(path = %path.display(), "generated the event publish secret");
                        Ok(secret)
                    }
                    Err(err) if err.kind() == io::ErrorKind::AlreadyExists => read(path)?
                        .ok_or_else(|| io::Error::other("the publish secret file is empty")),
                    Err(err) => Err(err),
                }
            }
        }
    }
}

/// The secret in `path`; `None` if the file is missing or empty.
fn read(path: &Path) -> io::Result<Option<Secret>> {
    match std::fs::read_to_string(path) {
        Ok(text) if text.trim().is_empty() => Ok(None),
        Ok(text) => Ok(Some(Secret::new(text.trim()))),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err),
    }
}

/// Writes a new random secret to `path`, readable by its owner only. It is
/// written under a temporary name and linked into place, so a reader never
/// sees a half-written file and an existing one is never replaced.
fn create(path: &Path) -> io::Result<Secret> {
    let mut bytes = [0u8; GENERATED_BYTES];
    getrandom::fill(&mut bytes).map_err(io::Error::other)?;
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut temp = tempfile::Builder::new()
        .prefix(".publish-token")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .tempfile_in(dir)?;
    temp.write_all(secret.as_bytes())?;
    temp.as_file().sync_all()?;
    temp.persist_noclobber(path).map_err(|e| e.error)?;
    Ok(Secret::new(secret))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_missing_file_is_created_once_and_then_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets/publish-token");
        let token = PublishToken::File(path.clone());
        assert_eq!(token.current(), None, "not there before the gateway starts");
        let made = token.ensure().unwrap();
        assert_eq!(made.expose().len(), 2 * GENERATED_BYTES);
        assert_eq!(token.ensure().unwrap(), made, "kept, not replaced");
        assert_eq!(token.current(), Some(made));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_value_wins_over_a_file() {
        let settings = AccessSettings {
            publish_token: Some(Secret::new("publish-secret-0123456789")),
            publish_token_file: Some("/nonexistent".into()),
            ..AccessSettings::default()
        };
        let token = PublishToken::from_settings(&settings).unwrap();
        assert_eq!(
            token.current().unwrap().expose(),
            "publish-secret-0123456789"
        );
        assert_eq!(
            PublishToken::from_settings(&AccessSettings::default()),
            None
        );
    }
}
