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

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};
use cookie::{Cookie, SameSite};
use inlet_common::access::Scope;

use super::error::AccessError;
use super::guard::Access;
use super::session_key::COOKIE;
use crate::routes::method_not_allowed;

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

/// Signs in with a token typed into a page (the inbox's sign-in form):
/// the scope it grants and the `Set-Cookie` value of its session. The
/// token is checked, throttled and counted as a bearer token is.
pub fn sign_in_with_typed_token(
    req: &HttpRequest,
    token: &str,
) -> Result<(Scope, String), AccessError> {
    let Some(access) = req.app_data::<Access>() else {
        return Err(inlet_common::access::Denied::NotConfigured.into());
    };
    let scope = access.check_typed(req, token, Scope::Read)?;
    let secure = req.connection_info().scheme() == "https";
    let cookie = access
        .session_key()
        .issue(scope, access.session_ttl(), secure)
        .ok_or(inlet_common::access::Denied::NotConfigured)?;
    tracing::info!(scope = scope.name(), "page session started");
    Ok((scope, cookie))
}

/// The `Set-Cookie` value that ends a page session.
pub fn sign_out_cookie() -> String {
    Cookie::build((COOKIE, ""))
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .max_age(cookie::time::Duration::ZERO)
        .build()
        .to_string()
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
    HttpResponse::NoContent()
        .insert_header((header::SET_COOKIE, sign_out_cookie()))
        .finish()
}
