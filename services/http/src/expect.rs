//! `Expect: 100-continue`: a client asks before it sends its body. A declared
//! length over the cap is answered 413 at once, never `100 Continue` first —
//! actix's own handler says 100 to everyone before any handler can look.

use actix_http::body::BoxBody;
use actix_http::header::{self, HeaderValue};
use actix_http::{ConnectionType, HttpMessage, Method, Request, Response};

use crate::body::{declared_length, BodyError};
use crate::errors::{prefers_json, status_of, ErrorReply, PublicError};

/// The longest body a request may declare and still get `100 Continue`:
/// the largest any route of its method takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeclaredCaps {
    /// For `PUT`.
    pub put: u64,
    /// For every other method.
    pub other: u64,
}

impl DeclaredCaps {
    /// One cap for every method (`0`: no route takes a body).
    pub const fn same(cap: u64) -> Self {
        Self {
            put: cap,
            other: cap,
        }
    }

    fn for_method(&self, method: &Method) -> u64 {
        if method == Method::PUT {
            self.put
        } else {
            self.other
        }
    }
}

/// Lets the request go on (actix then sends `100 Continue`), or refuses it.
pub async fn continue_unless_too_large(
    req: Request,
    caps: DeclaredCaps,
) -> Result<Request, Response<BoxBody>> {
    let max_declared = caps.for_method(req.method());
    // A bad or missing length is for the handler to refuse, with its own answer.
    let Ok(Some(declared)) = declared_length(req.headers()) else {
        return Ok(req);
    };
    if declared <= max_declared {
        return Ok(req);
    }
    let err = BodyError::TooLarge {
        limit: max_declared,
    };
    tracing::info!(
        http.request.method = %req.method(),
        url.path = req.path(),
        declared,
        limit = max_declared,
        "refused before 100 Continue: declared body over the limit"
    );
    let (body, content_type) = ErrorReply::for_error(&err).into_body(prefers_json(req.headers()));
    let mut res = Response::with_body(status_of(err.code()), BoxBody::new(body));
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if err.closes_connection() {
        res.head_mut().set_connection_type(ConnectionType::Close);
    }
    Err(res)
}
