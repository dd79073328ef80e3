//! Who is asking: a signed-in page (its session cookie) or a client with a
//! bearer token, and the check every change makes.

use actix_web::http::header;
use actix_web::HttpRequest;
use inlet_common::access::{Denied, Scope};
use inlet_http::access::{Access, AccessError};

use crate::error::InboxError;

/// A reader allowed in.
pub struct Reader {
    /// What their credential allows.
    pub scope: Scope,
    /// Their session's anti-forgery token (empty for a bearer token, which
    /// a browser never sends on its own).
    pub csrf: String,
}

/// The reader of `req`, who needs at least `needed`.
pub fn reader(req: &HttpRequest, needed: Scope) -> Result<Reader, InboxError> {
    let access = req
        .app_data::<Access>()
        .ok_or(AccessError::from(Denied::NotConfigured))?;
    let scope = access.check(req, needed)?;
    Ok(Reader {
        scope,
        csrf: access.csrf_token(req).unwrap_or_default(),
    })
}

/// A change (`needed` scope): a session must also send its anti-forgery
/// token as `given` (a form field); a bearer token needs none.
pub fn changer(req: &HttpRequest, needed: Scope, given: &str) -> Result<Reader, InboxError> {
    let reader = reader(req, needed)?;
    if req.headers().contains_key(header::AUTHORIZATION) {
        return Ok(reader);
    }
    let access = req
        .app_data::<Access>()
        .ok_or(AccessError::from(Denied::NotConfigured))?;
    if access.csrf_matches(req, given) {
        Ok(reader)
    } else {
        tracing::warn!(
            url.path = req.path(),
            "change refused: missing or wrong anti-forgery token"
        );
        Err(InboxError::BadCsrfToken)
    }
}
