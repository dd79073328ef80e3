//! Why a form request fails, and what status each failure maps to.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use inlet_http::errors::{error_response, PublicError};

use crate::store::StoreError;

/// Every way a forms request can fail.
#[derive(Debug, thiserror::Error)]
pub enum FormsError {
    /// Content-Type is neither urlencoded nor JSON (or names another charset).
    #[error("unsupported content type: send application/x-www-form-urlencoded or application/json (UTF-8)")]
    UnsupportedMediaType,
    /// Neither Content-Length nor chunked transfer encoding was given.
    #[error("a Content-Length header (or chunked transfer encoding) is required")]
    LengthRequired,
    /// The declared or actual body exceeds `limits.max_body_bytes`.
    #[error("body larger than the {limit}-byte limit")]
    TooLarge {
        /// The configured cap.
        limit: u64,
    },
    /// More urlencoded fields than `limits.max_fields`.
    #[error("more than {limit} fields")]
    TooManyFields {
        /// The configured cap.
        limit: usize,
    },
    /// The client stopped sending before the body was complete.
    #[error("the body ended before its declared length")]
    IncompleteBody,
    /// The body did not arrive within `http.body_timeout_ms`.
    #[error("the body was not received in time")]
    BodyTimeout,
    /// The body (or a decoded field) is not valid UTF-8.
    #[error("the body is not valid UTF-8")]
    InvalidUtf8,
    /// The JSON body does not parse.
    #[error("invalid JSON: {0}")]
    InvalidJson(String),
    /// A query parameter of `GET /submissions` is wrong.
    #[error("{0}")]
    BadQuery(String),
    /// The submission could not be made durable.
    #[error("storing the submission failed")]
    Store(#[from] StoreError),
}

impl PublicError for FormsError {
    fn status(&self) -> StatusCode {
        match self {
            FormsError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            FormsError::LengthRequired => StatusCode::LENGTH_REQUIRED,
            FormsError::TooLarge { .. } | FormsError::TooManyFields { .. } => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            FormsError::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            FormsError::IncompleteBody
            | FormsError::InvalidUtf8
            | FormsError::InvalidJson(_)
            | FormsError::BadQuery(_) => StatusCode::BAD_REQUEST,
            FormsError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            FormsError::UnsupportedMediaType => "unsupported_media_type",
            FormsError::LengthRequired => "length_required",
            FormsError::TooLarge { .. } => "payload_too_large",
            FormsError::TooManyFields { .. } => "too_many_fields",
            FormsError::IncompleteBody => "incomplete_body",
            FormsError::BodyTimeout => "body_timeout",
            FormsError::InvalidUtf8 => "invalid_utf8",
            FormsError::InvalidJson(_) => "invalid_json",
            FormsError::BadQuery(_) => "bad_query",
            FormsError::Store(_) => "store_failed",
        }
    }
}

impl ResponseError for FormsError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = error_response(self);
        if matches!(
            self,
            FormsError::TooLarge { .. } | FormsError::BodyTimeout | FormsError::IncompleteBody
        ) {
            // The rest of the body is not read, so the connection cannot be reused.
            res.head_mut()
                .set_connection_type(actix_web::http::ConnectionType::Close);
        }
        res
    }
}
