//! Why a request was not let read, as an answer.

use actix_web::http::header::{self, HeaderValue};
use actix_web::HttpResponse;
use inlet_common::access::Denied;
use inlet_common::code::Code;

use crate::errors::{error_response, PublicError};

/// The realm named in every `WWW-Authenticate`.
const REALM: &str = "inlet";

/// A credential refused, or an address slowed down.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// The credential check said no.
    #[error(transparent)]
    Denied(#[from] Denied),
    /// A change carried by a page session that did not come from the
    /// service's own page (cross-site request forgery).
    #[error("a signed-in page may change stored items only from this service's own pages; send the token as Authorization: Bearer instead")]
    CrossOrigin,
    /// This address failed too often; it may try again after the wait.
    #[error("too many failed credentials from this address: wait {retry_after} s and try again")]
    Throttled {
        /// Whole seconds until the next try counts.
        retry_after: u32,
    },
}

impl AccessError {
    /// A short label for metrics and logs.
    pub fn reason(&self) -> &'static str {
        match self {
            AccessError::Denied(denied) => denied.reason(),
            AccessError::Throttled { .. } => "throttled",
            AccessError::CrossOrigin => "cross_origin",
        }
    }

    /// The answer: the error body, `Retry-After` when throttled, and the
    /// `WWW-Authenticate` challenge (RFC 6750) for 401 and a missing scope.
    pub fn to_response(&self) -> HttpResponse {
        let mut res = error_response(self);
        let challenge = match self {
            AccessError::Denied(Denied::Missing) => Some(format!("Bearer realm=\"{REALM}\"")),
            AccessError::Denied(Denied::Wrong) => {
                Some(format!("Bearer realm=\"{REALM}\", error=\"invalid_token\""))
            }
            AccessError::Denied(Denied::Scope(scope)) => Some(format!(
                "Bearer realm=\"{REALM}\", error=\"insufficient_scope\", scope=\"{}\"",
                scope.name()
            )),
            _ => None,
        };
        if let Some(value) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, value);
        }
        res
    }
}

impl PublicError for AccessError {
    fn code(&self) -> Code {
        match self {
            AccessError::Denied(Denied::NotConfigured) => Code::ReadingDisabled,
            AccessError::Denied(Denied::Missing) => Code::MissingCredential,
            AccessError::Denied(Denied::Wrong) => Code::BadCredential,
            AccessError::Denied(Denied::Scope(_)) => Code::InsufficientScope,
            AccessError::Throttled { .. } => Code::TooManyFailures,
            AccessError::CrossOrigin => Code::OriginNotAllowed,
        }
    }

    fn retry_after(&self) -> Option<u32> {
        match self {
            AccessError::Throttled { retry_after } => Some(*retry_after),
            AccessError::Denied(_) | AccessError::CrossOrigin => None,
        }
    }
}
