//! Why an upload fails, and the code each failure is.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use inlet_common::code::Code;
use inlet_http::body::BodyError;
use inlet_http::errors::{error_response, status_of, PublicError};

/// Every way an upload request can fail.
#[derive(Debug, thiserror::Error)]
pub enum UploadsError {
    /// The body was refused before or while reading it (length, cap, time).
    #[error(transparent)]
    Body(#[from] BodyError),
    /// A header the request needs is missing or not text.
    #[error("the {0} header is required")]
    MissingHeader(&'static str),
    /// The disk is full: nothing was kept.
    #[error("no space left to store the file")]
    DiskFull,
    /// Writing the file failed: nothing was kept.
    #[error("storing the file failed")]
    Store(#[source] std::io::Error),
}

impl From<std::io::Error> for UploadsError {
    fn from(err: std::io::Error) -> Self {
        if err.kind() == std::io::ErrorKind::StorageFull {
            UploadsError::DiskFull
        } else {
            UploadsError::Store(err)
        }
    }
}

impl PublicError for UploadsError {
    fn code(&self) -> Code {
        match self {
            UploadsError::Body(err) => err.code(),
            UploadsError::MissingHeader(_) => Code::MissingHeader,
            UploadsError::DiskFull => Code::InsufficientStorage,
            UploadsError::Store(_) => Code::StoreFailed,
        }
    }

    fn closes_connection(&self) -> bool {
        // Any refusal may leave part of the file unread.
        true
    }
}

impl ResponseError for UploadsError {
    fn status_code(&self) -> StatusCode {
        status_of(self.code())
    }

    fn error_response(&self) -> HttpResponse {
        error_response(self)
    }
}
