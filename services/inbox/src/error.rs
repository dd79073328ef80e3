//! Every failure of an inbox request, and the one place it becomes an answer.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use inlet_common::code::Code;
use inlet_http::access::AccessError;
use inlet_http::errors::{error_response, PublicError};

use crate::index::query::QueryError;
use crate::index::IndexError;
use crate::sources::api::SourceError;
use crate::sources::sync::SyncError;

/// Why an inbox request failed.
#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    /// The credential said no.
    #[error(transparent)]
    Access(#[from] AccessError),
    /// A change without this session's anti-forgery token.
    #[error("this form has expired or did not come from the inbox: reload the page and try again")]
    BadCsrfToken,
    /// The search could not be understood.
    #[error(transparent)]
    Query(#[from] QueryError),
    /// A path or query that names nothing the inbox has.
    #[error("{0}")]
    BadRequest(&'static str),
    /// No such item.
    #[error("no such item: it may have been deleted")]
    NotFound,
    /// Too many pages follow the live list.
    #[error("too many pages are following the live list; reload later")]
    TooManyLivePages,
    /// The index failed.
    #[error("the search index failed")]
    Index(#[from] IndexError),
    /// A service failed.
    #[error("{0}")]
    Source(#[from] SourceError),
}

impl From<SyncError> for InboxError {
    fn from(err: SyncError) -> Self {
        match err {
            SyncError::Index(err) => InboxError::Index(err),
            SyncError::Source(err) => InboxError::Source(err),
        }
    }
}

impl PublicError for InboxError {
    fn code(&self) -> Code {
        match self {
            InboxError::Access(err) => err.code(),
            InboxError::BadCsrfToken => Code::BadCsrfToken,
            InboxError::Query(_) | InboxError::BadRequest(_) => Code::BadQuery,
            InboxError::NotFound => Code::NotFound,
            InboxError::TooManyLivePages => Code::TooManyConnections,
            InboxError::Index(_) => Code::Internal,
            InboxError::Source(SourceError::NotConfigured(_)) => Code::NotFound,
            InboxError::Source(_) => Code::UpstreamFailed,
        }
    }

    fn retry_after(&self) -> Option<u32> {
        match self {
            InboxError::Access(err) => err.retry_after(),
            InboxError::TooManyLivePages => Some(5),
            _ => None,
        }
    }
}

impl ResponseError for InboxError {
    fn status_code(&self) -> StatusCode {
        inlet_http::errors::status_of(self.code())
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            InboxError::Access(err) => err.to_response(),
            other => error_response(other),
        }
    }
}
