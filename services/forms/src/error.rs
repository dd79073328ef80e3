//! Why a form request fails, and what status each failure maps to.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use inlet_common::code::Code;
use inlet_http::body::BodyError;
use inlet_http::errors::{error_response, retry_after_for, status_of, PublicError};
use inlet_http::paging::PagingError;

use crate::store::StoreError;

/// Every way a forms request can fail.
#[derive(Debug, thiserror::Error)]
pub enum FormsError {
    /// The body was refused before or while reading it (type, length, cap, time).
    #[error(transparent)]
    Body(#[from] BodyError),
    /// More urlencoded fields than `limits.max_fields`.
    #[error("more than {limit} fields")]
    TooManyFields {
        /// The configured cap.
        limit: usize,
    },
    /// The body (or a decoded field) is not valid UTF-8.
    #[error("the body is not valid UTF-8")]
    InvalidUtf8,
    /// The JSON body does not parse.
    #[error("invalid JSON: {0}")]
    InvalidJson(String),
    /// The paging query of `GET /submissions` is wrong.
    #[error(transparent)]
    BadQuery(#[from] PagingError),
    /// No stored submission has this id.
    #[error("no submission has this id")]
    NotFound,
    /// The in-flight body budget is spent; try again shortly.
    #[error("too many request bodies are being received at once; try again shortly")]
    Busy,
    /// The data volume is nearly full (`disk.min_free_bytes`).
    #[error("the server's disk is nearly full; nothing more can be stored until space is freed")]
    LowDisk(#[from] inlet_common::disk_space::LowDisk),
    /// The submission could not be made durable (or read back).
    #[error("{}", public_message(.0))]
    Store(#[from] StoreError),
}

/// What a client is told of a store failure: never its internals.
fn public_message(err: &StoreError) -> &'static str {
    match err {
        StoreError::Unavailable(_) => {
            "the submission store is not reachable just now; nothing was stored, try again shortly"
        }
        StoreError::Stopped(_) => "the submission store has stopped taking submissions",
        _ => "storing the submission failed",
    }
}

impl PublicError for FormsError {
    fn code(&self) -> Code {
        match self {
            FormsError::Body(err) => err.code(),
            FormsError::TooManyFields { .. } => Code::TooManyFields,
            FormsError::InvalidUtf8 => Code::InvalidUtf8,
            FormsError::InvalidJson(_) => Code::InvalidJson,
            FormsError::BadQuery(_) => Code::BadQuery,
            FormsError::NotFound => Code::NotFound,
            FormsError::Busy => Code::Unavailable,
            FormsError::LowDisk(_) => Code::InsufficientStorage,
            // Stopped for good after a failed rollback: nothing can be taken now.
            FormsError::Store(StoreError::Stopped(_) | StoreError::Unavailable(_)) => {
                Code::Unavailable
            }
            FormsError::Store(_) => Code::StoreFailed,
        }
    }

    fn closes_connection(&self) -> bool {
        match self {
            FormsError::Body(err) => err.closes_connection(),
            // Answered before its body is read: the connection cannot be reused.
            FormsError::Busy | FormsError::LowDisk(_) => true,
            _ => false,
        }
    }

    fn retry_after(&self) -> Option<u32> {
        match self {
            // Waiting does not bring a stopped journal back; a restart does.
            FormsError::Store(StoreError::Stopped(_)) => None,
            _ => retry_after_for(self.code()),
        }
    }
}

impl ResponseError for FormsError {
    fn status_code(&self) -> StatusCode {
        status_of(self.code())
    }

    fn error_response(&self) -> HttpResponse {
        error_response(self)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use actix_web::http::header;

    use super::*;

    #[test]
    fn a_journal_that_stopped_taking_writes_is_503_and_a_failed_write_500() {
        let stopped = FormsError::Store(StoreError::Stopped(Arc::from("cut failed")));
        assert_eq!(stopped.status_code(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(stopped
            .error_response()
            .headers()
            .get(header::RETRY_AFTER)
            .is_none());
        let failed = FormsError::Store(StoreError::Write(Arc::new(std::io::Error::other("eio"))));
        assert_eq!(failed.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn a_busy_answer_says_when_to_come_back_and_closes() {
        let res = FormsError::Busy.error_response();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(res.headers().get(header::RETRY_AFTER).unwrap(), "1");
        assert!(FormsError::Busy.closes_connection());
    }
}
