//! The page session: a signed cookie that stands for the token in a browser.
//!
//! `POST /session` with `Authorization: Bearer <token>` answers with a cookie
//! (`HttpOnly`, `SameSite=Strict`, `Secure` over https) that holds the
//! token's scope and an expiry, signed (HMAC-SHA256, the `cookie` crate's
//! signed jar) with a key derived from the configured tokens. The page's
//! script never holds the token after signing in, its WebSocket sends the
//! cookie, and rotating a token ends every session signed before.
//! `GET /session` says whether the cookie is still good; `DELETE /session`
//! signs out. A request with the cookie but no `Authorization` header is
//! checked by the cookie alone.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};
use cookie::{Cookie, CookieJar, Key, SameSite};
use inlet_common::access::{Credentials, Scope};

use super::error::AccessError;
use super::guard::Access;
use crate::routes::method_not_allowed;

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
        let mut jar = CookieJar::new();
        for value in req.headers().get_all(header::COOKIE) {
            let Ok(text) = value.to_str() else { continue };
            for cookie in Cookie::split_parse(text).flatten() {
                if cookie.name() == COOKIE {
                    jar.add_original(cookie.into_owned());
                }
            }
        }
        let verified = jar.signed(key).get(COOKIE)?;
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

    /// A `Set-Cookie` value for a session with `scope` lasting `ttl`.
    fn issue(&self, scope: Scope, ttl: Duration, secure: bool) -> Option<String> {
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

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// Registers `/session` (for services with pages).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/session")
            .route(web::post().to(sign_in))
            .route(web::get().to(who))
            .route(web::delete().to(sign_out))
            .default_service(method_not_allowed("GET, POST, DELETE")),
    );
}

/// `POST /session`: the bearer token in, the session cookie out.
async fn sign_in(req: HttpRequest) -> HttpResponse {
    let Some(access) = req.app_data::<Access>() else {
        return AccessError::from(inlet_common::access::Denied::NotConfigured).to_response();
    };
    let scope = match access.check_bearer(&req, Scope::Read) {
        Ok(scope) => scope,
        Err(err) => return err.to_response(),
    };
    let secure = req.connection_info().scheme() == "https";
    let ttl = access.session_ttl();
    let Some(cookie) = access.session_key().issue(scope, ttl, secure) else {
        return AccessError::from(inlet_common::access::Denied::NotConfigured).to_response();
    };
    tracing::info!(scope = scope.name(), "page session started");
    let mut res = HttpResponse::Ok().json(serde_json::json!({
        "scope": scope.name(),
        "expires_in": ttl.as_secs(),
    }));
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        res.headers_mut().append(header::SET_COOKIE, value);
    }
    res
}

/// `GET /session`: whether this browser is signed in, and with what scope.
async fn who(req: HttpRequest) -> HttpResponse {
    let Some(access) = req.app_data::<Access>() else {
        return AccessError::from(inlet_common::access::Denied::NotConfigured).to_response();
    };
    match access.check(&req, Scope::Read) {
        Ok(scope) => HttpResponse::Ok().json(serde_json::json!({ "scope": scope.name() })),
        Err(err) => err.to_response(),
    }
}

/// `DELETE /session`: sign out (the cookie is removed).
async fn sign_out() -> HttpResponse {
    let removal = Cookie::build((COOKIE, ""))
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .max_age(cookie::time::Duration::ZERO)
        .build();
    HttpResponse::NoContent()
        .insert_header((header::SET_COOKIE, removal.to_string()))
        .finish()
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
