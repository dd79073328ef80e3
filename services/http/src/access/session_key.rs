//! The key page sessions are signed with, and what a session cookie says.
//!
//! A cookie holds the scope and an expiry, signed (HMAC-SHA256, the `cookie`
//! crate's signed jar) with a key derived from every configured token, so
//! rotating a token ends every session signed before.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::http::header;
use actix_web::HttpRequest;
use cookie::{Cookie, CookieJar, Key, SameSite};
use hmac::{Hmac, Mac};
use inlet_common::access::{Credentials, Scope};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The cookie's name.
pub const COOKIE: &str = "inlet_session";

/// The key page sessions are signed with; none when no credential is set.
#[derive(Clone)]
pub struct SessionKey(Option<Key>);

impl SessionKey {
    /// The key for `credentials` (derived from every configured token).
    pub fn new(credentials: &Credentials) -> Self {
        Self(
            credentials
                .is_configured()
                .then(|| Key::from(&credentials.session_key_material())),
        )
    }

    /// The scope a valid, unexpired session cookie on `req` grants.
    pub fn scope_of(&self, req: &HttpRequest) -> Option<Scope> {
        let key = self.0.as_ref()?;
        let verified = jar_of(req).signed(key).get(COOKIE)?;
        let (scope, expires) = verified.value().split_once('.')?;
        let expires: u64 = expires.parse().ok()?;
        if unix_now() >= expires {
            return None;
        }
        match scope {
            "read" => Some(Scope::Read),
            "delete" => Some(Scope::Delete),
            _ => None,
        }
    }

    /// The anti-forgery token of the session on `req`: an HMAC of its
    /// signed cookie, so it changes with every session and no page of
    /// another origin can know it. `None` without a valid session.
    pub fn csrf_token(&self, req: &HttpRequest) -> Option<String> {
        let key = self.0.as_ref()?;
        self.scope_of(req)?;
        let cookie = jar_of(req).get(COOKIE)?.value().to_owned();
        let mut mac = Hmac::<Sha256>::new_from_slice(key.signing()).ok()?;
        mac.update(b"inlet csrf\0");
        mac.update(cookie.as_bytes());
        let digest = mac.finalize().into_bytes();
        Some(digest.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// Whether `given` is the anti-forgery token of the session on `req`.
    pub fn csrf_matches(&self, req: &HttpRequest, given: &str) -> bool {
        self.csrf_token(req)
            .is_some_and(|token| bool::from(token.as_bytes().ct_eq(given.as_bytes())))
    }

    /// A `Set-Cookie` value for a session with `scope` lasting `ttl`.
    pub(super) fn issue(&self, scope: Scope, ttl: Duration, secure: bool) -> Option<String> {
        let key = self.0.as_ref()?;
        let expires = unix_now() + ttl.as_secs();
        let mut jar = CookieJar::new();
        jar.signed_mut(key).add(
            Cookie::build((COOKIE, format!("{}.{expires}", scope.name())))
                .http_only(true)
                .same_site(SameSite::Strict)
                .secure(secure)
                .path("/")
                .max_age(cookie::time::Duration::seconds(ttl.as_secs() as i64)),
        );
        jar.get(COOKIE).map(|c| c.to_string())
    }
}

/// The session cookies `req` carries, unverified.
fn jar_of(req: &HttpRequest) -> CookieJar {
    let mut jar = CookieJar::new();
    for value in req.headers().get_all(header::COOKIE) {
        let Ok(text) = value.to_str() else { continue };
        for cookie in Cookie::split_parse(text).flatten() {
            if cookie.name() == COOKIE {
                jar.add_original(cookie.into_owned());
            }
        }
    }
    jar
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;
    use inlet_common::access::{AccessSettings, Secret};

    fn key(token: &str) -> SessionKey {
        SessionKey::new(&Credentials::from_settings(&AccessSettings {
            admin_token: Some(Secret::new(token)),
            ..AccessSettings::default()
        }))
    }

    fn request_with(cookie: &str) -> HttpRequest {
        TestRequest::default()
            .insert_header((header::COOKIE, cookie.split(';').next().unwrap()))
            .to_http_request()
    }

    #[test]
    fn a_session_grants_its_scope_until_it_expires() {
        let key = key("admin-token-0123456789");
        let cookie = key
            .issue(Scope::Delete, Duration::from_secs(60), false)
            .unwrap();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
        assert_eq!(key.scope_of(&request_with(&cookie)), Some(Scope::Delete));
        let expired = key.issue(Scope::Read, Duration::ZERO, false).unwrap();
        assert_eq!(key.scope_of(&request_with(&expired)), None);
    }

    #[test]
    fn the_csrf_token_belongs_to_one_session() {
        let key = key("admin-token-0123456789");
        let first = request_with(
            &key.issue(Scope::Read, Duration::from_secs(60), false)
                .unwrap(),
        );
        let token = key.csrf_token(&first).unwrap();
        assert_eq!(token.len(), 64);
        assert!(key.csrf_matches(&first, &token));
        assert!(!key.csrf_matches(&first, &token[..63]));
        assert!(!key.csrf_matches(&first, ""));
        let expired = request_with(&key.issue(Scope::Read, Duration::ZERO, false).unwrap());
        assert_eq!(key.csrf_token(&expired), None, "no session, no token");
        assert!(!key.csrf_matches(&expired, &token));
        let none = TestRequest::default().to_http_request();
        assert_eq!(key.csrf_token(&none), None);
    }

    #[test]
    fn a_forged_or_foreign_cookie_grants_nothing() {
        let key_a = key("admin-token-0123456789");
        let cookie = key_a
            .issue(Scope::Read, Duration::from_secs(60), false)
            .unwrap();
        let rotated = key("admin-token-rotated-9876");
        assert_eq!(
            rotated.scope_of(&request_with(&cookie)),
            None,
            "rotation ends sessions"
        );
        let value = cookie.split(';').next().unwrap();
        let forged = value.replace("read.", "delete.");
        assert_eq!(key_a.scope_of(&request_with(&forged)), None);
        assert_eq!(
            key_a.scope_of(&request_with("inlet_session=delete.99999999999")),
            None
        );
        let none = SessionKey::new(&Credentials::default());
        assert_eq!(none.scope_of(&request_with(&cookie)), None);
    }
}
