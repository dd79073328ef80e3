//! Why a mail read failed, as an answer.

use inlet_common::code::Code;
use inlet_http::errors::{error_response, PublicError};
use inlet_http::paging::PagingError;

/// Every way a `/messages` request can fail.
#[derive(Debug, thiserror::Error)]
pub enum MessagesError {
    /// No stored message has this id (or it is not an id at all).
    #[error("no message has this id")]
    NotFound,
    /// No attachment has this index.
    #[error("the message has no attachment with this index")]
    NoAttachment,
    /// `mailbox` names no mailbox.
    #[error("no mailbox is named {0:?}")]
    NoMailbox(String),
    /// The paging query is wrong.
    #[error(transparent)]
    BadQuery(#[from] PagingError),
    /// The query cannot be read.
    #[error("the query cannot be read: {0}")]
    Query(String),
    /// The mail folder could not be read.
    #[error("reading stored mail failed")]
    Read(#[source] std::io::Error),
}

impl PublicError for MessagesError {
    fn code(&self) -> Code {
        match self {
            MessagesError::NotFound | MessagesError::NoAttachment => Code::NotFound,
            MessagesError::NoMailbox(_) | MessagesError::BadQuery(_) | MessagesError::Query(_) => {
                Code::BadQuery
            }
            MessagesError::Read(_) => Code::Internal,
        }
    }
}

impl actix_web::ResponseError for MessagesError {
    fn status_code(&self) -> actix_web::http::StatusCode {
        inlet_http::errors::status_of(self.code())
    }

    fn error_response(&self) -> actix_web::HttpResponse {
        error_response(self)
    }
}
