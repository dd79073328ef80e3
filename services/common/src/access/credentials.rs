//! The configured tokens and the one check every read goes through.
//!
//! Tokens are kept as SHA-256 digests and a presented token is hashed and
//! compared with each digest in constant time (`subtle`), so neither the
//! comparison's time nor the token's length tells a guesser anything.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::settings::{AccessSettings, Secret};

/// What a credential allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Read stored items and follow the event feed.
    Read,
    /// Everything `Read` allows, and delete.
    Delete,
}

impl Scope {
    /// The scope's name, as answers and logs say it.
    pub fn name(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Delete => "delete",
        }
    }

    /// Whether a credential with this scope may do what `needed` names.
    pub fn allows(self, needed: Scope) -> bool {
        self >= needed
    }
}

/// Why a credential was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// No credential is configured, so nothing stored can be read.
    #[error("reading is turned off until a credential is configured: set INLET_ADMIN_TOKEN on the service (see the README, \"Access\")")]
    NotConfigured,
    /// The request carried no credential.
    #[error("this needs a credential: send `Authorization: Bearer <token>` (INLET_ADMIN_TOKEN)")]
    Missing,
    /// The credential is not one of the configured ones.
    #[error("the credential was not accepted: check the token and send it as `Authorization: Bearer <token>`")]
    Wrong,
    /// The credential is right but may not do this.
    #[error("this credential may not do this: it needs the {} scope (INLET_ADMIN_TOKEN has every scope)", .0.name())]
    Scope(Scope),
}

impl Denied {
    /// A short label for metrics and logs.
    pub fn reason(self) -> &'static str {
        match self {
            Denied::NotConfigured => "not_configured",
            Denied::Missing => "missing",
            Denied::Wrong => "wrong",
            Denied::Scope(_) => "scope",
        }
    }
}

/// The configured tokens, as digests with their scopes.
#[derive(Clone, Default)]
pub struct Credentials {
    tokens: Vec<([u8; 32], Scope)>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("configured", &self.tokens.len())
            .finish()
    }
}

impl Credentials {
    /// The credentials `settings` configures (possibly none).
    pub fn from_settings(settings: &AccessSettings) -> Self {
        let mut tokens = Vec::new();
        if let Some(token) = &settings.admin_token {
            tokens.push((digest(token.expose().as_bytes()), Scope::Delete));
        }
        if let Some(token) = &settings.read_token {
            tokens.push((digest(token.expose().as_bytes()), Scope::Read));
        }
        Self { tokens }
    }

    /// Whether any credential is configured.
    pub fn is_configured(&self) -> bool {
        !self.tokens.is_empty()
    }

    /// The scope of `presented`, or why it is not accepted for `needed`.
    /// Every configured digest is compared, whatever matches first.
    pub fn check(&self, presented: Option<&[u8]>, needed: Scope) -> Result<Scope, Denied> {
        if !self.is_configured() {
            return Err(Denied::NotConfigured);
        }
        let presented = presented.ok_or(Denied::Missing)?;
        let presented = digest(presented);
        let mut found: Option<Scope> = None;
        for (stored, scope) in &self.tokens {
            if bool::from(stored.ct_eq(&presented)) {
                found = Some(*scope);
            }
        }
        let scope = found.ok_or(Denied::Wrong)?;
        if scope.allows(needed) {
            Ok(scope)
        } else {
            Err(Denied::Scope(needed))
        }
    }

    /// Key material that changes whenever a configured token does: page
    /// sessions are signed with it, so rotating a token ends them.
    pub fn session_key_material(&self) -> Vec<u8> {
        let mut hasher = sha2::Sha512::new();
        hasher.update(b"inlet page session v1");
        for (stored, scope) in &self.tokens {
            hasher.update(stored);
            hasher.update(scope.name());
        }
        hasher.finalize().to_vec()
    }
}

/// Whether `presented` is `expected`, compared in constant time (by digest,
/// so the length is not told either).
pub fn same_secret(expected: &Secret, presented: &[u8]) -> bool {
    bool::from(digest(expected.expose().as_bytes()).ct_eq(&digest(presented)))
}

/// SHA-256 of `bytes`.
pub fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both() -> Credentials {
        Credentials::from_settings(&AccessSettings {
            admin_token: Some(Secret::new("admin-token-0123456789")),
            read_token: Some(Secret::new("read-token-0123456789")),
            ..AccessSettings::default()
        })
    }

    #[test]
    fn each_token_has_its_scope() {
        let creds = both();
        let admin = Some(b"admin-token-0123456789".as_slice());
        let read = Some(b"read-token-0123456789".as_slice());
        assert_eq!(creds.check(admin, Scope::Delete), Ok(Scope::Delete));
        assert_eq!(creds.check(admin, Scope::Read), Ok(Scope::Delete));
        assert_eq!(creds.check(read, Scope::Read), Ok(Scope::Read));
        assert_eq!(
            creds.check(read, Scope::Delete),
            Err(Denied::Scope(Scope::Delete))
        );
    }

    #[test]
    fn missing_wrong_and_unconfigured_are_told_apart() {
        let creds = both();
        assert_eq!(creds.check(None, Scope::Read), Err(Denied::Missing));
        for wrong in [
            &b"admin-token-012345678"[..],
            b"",
            b"admin-token-0123456789 ",
            b"\xff\xfe",
        ] {
            assert_eq!(
                creds.check(Some(wrong), Scope::Read),
                Err(Denied::Wrong),
                "{wrong:?}"
            );
        }
        let none = Credentials::from_settings(&AccessSettings::default());
        assert_eq!(
            none.check(Some(b"admin-token-0123456789"), Scope::Read),
            Err(Denied::NotConfigured)
        );
    }

    #[test]
    fn the_session_key_changes_with_any_token() {
        let before = both().session_key_material();
        let rotated = Credentials::from_settings(&AccessSettings {
            admin_token: Some(Secret::new("admin-token-rotated-0001")),
            read_token: Some(Secret::new("read-token-0123456789")),
            ..AccessSettings::default()
        });
        assert_ne!(before, rotated.session_key_material());
        assert_eq!(before.len(), 64);
    }
}
