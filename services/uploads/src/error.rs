//! Why an upload fails, and the code each failure is.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use inlet_common::code::Code;
use inlet_http::body::BodyError;
use inlet_http::errors::{error_response, status_of, PublicError};
use inlet_http::paging::PagingError;

/// Every way an upload request can fail. A failed request keeps no file.
#[derive(Debug, thiserror::Error)]
pub enum UploadsError {
    /// The body was refused before or while reading it (length, time, cut).
    #[error(transparent)]
    Body(BodyError),
    /// The whole multipart body is over `limits.max_request_bytes`.
    #[error("the request is larger than limits.max_request_bytes ({limit} bytes)")]
    RequestTooLarge {
        /// The configured limit.
        limit: u64,
    },
    /// One file is over `limits.max_file_bytes`.
    #[error("the file is larger than limits.max_file_bytes ({limit} bytes)")]
    FileTooLarge {
        /// The configured limit.
        limit: u64,
    },
    /// One text field is over `limits.max_field_bytes`.
    #[error("the text field {field:?} is larger than limits.max_field_bytes ({limit} bytes)")]
    FieldTooLarge {
        /// The field's name.
        field: String,
        /// The configured limit.
        limit: usize,
    },
    /// More parts than `limits.max_parts`.
    #[error("the request has more parts than limits.max_parts ({limit})")]
    TooManyParts {
        /// The configured limit.
        limit: usize,
    },
    /// A part's header block is over `limits.max_part_header_bytes`.
    #[error("a part's headers are larger than limits.max_part_header_bytes ({limit} bytes)")]
    PartHeadersTooLarge {
        /// The configured limit.
        limit: usize,
    },
    /// The multipart body does not follow its own syntax.
    #[error("malformed multipart body: {0}")]
    Malformed(String),
    /// A header the request needs is missing.
    #[error("the {0} header is required")]
    MissingHeader(&'static str),
    /// A query parameter is wrong.
    #[error(transparent)]
    BadQuery(#[from] PagingError),
    /// No stored file has that name.
    #[error("no stored file has that name")]
    NotFound,
    /// The disk is full: nothing was kept.
    #[error("no space left to store the file")]
    DiskFull,
    /// The data volume is under `disk.min_free_bytes`: nothing was read.
    #[error("the server's disk is nearly full; nothing more can be stored until space is freed")]
    LowDisk(#[from] inlet_common::disk_space::LowDisk),
    /// Storing one file failed (for another reason than space): nothing
    /// of the request was kept. The seed's words for it.
    #[error("Error saving {name}!")]
    SaveFailed {
        /// The file's name as the client sent it.
        name: String,
        /// What went wrong (logged, not sent).
        #[source]
        source: std::io::Error,
    },
    /// Reading the store failed.
    #[error("the upload store could not be read")]
    Store(#[source] std::io::Error),
    /// The store's backing service (S3) cannot be reached now.
    #[error("the file store is unreachable now; nothing was kept, try again shortly")]
    Unavailable(#[source] std::io::Error),
}

impl UploadsError {
    /// The error for a body over `cap`, named after the limit the cap is.
    pub fn from_body(err: BodyError, cap: Cap) -> Self {
        match (err, cap) {
            (BodyError::TooLarge { limit }, Cap::File) => UploadsError::FileTooLarge { limit },
            (BodyError::TooLarge { limit }, Cap::Request) => {
                UploadsError::RequestTooLarge { limit }
            }
            (err, _) => UploadsError::Body(err),
        }
    }

    /// This error, naming the file it happened to when it is a store failure.
    pub fn saving(self, name: &str) -> Self {
        match self {
            UploadsError::Store(source) => UploadsError::SaveFailed {
                name: crate::store::printable(name),
                source,
            },
            other => other,
        }
    }
}

/// Which limit a body's byte cap stands for.
#[derive(Debug, Clone, Copy)]
pub enum Cap {
    /// `limits.max_file_bytes` (a PUT body is one file).
    File,
    /// `limits.max_request_bytes` (a multipart body).
    Request,
}

impl From<std::io::Error> for UploadsError {
    fn from(err: std::io::Error) -> Self {
        if err.kind() == std::io::ErrorKind::StorageFull {
            UploadsError::DiskFull
        } else if crate::store::StoreUnavailable::is_cause_of(&err) {
            UploadsError::Unavailable(err)
        } else {
            UploadsError::Store(err)
        }
    }
}

impl PublicError for UploadsError {
    fn code(&self) -> Code {
        match self {
            UploadsError::Body(err) => err.code(),
            UploadsError::RequestTooLarge { .. } => Code::PayloadTooLarge,
            UploadsError::FileTooLarge { .. } => Code::FileTooLarge,
            UploadsError::FieldTooLarge { .. } => Code::FieldTooLarge,
            UploadsError::TooManyParts { .. } => Code::TooManyParts,
            UploadsError::PartHeadersTooLarge { .. } => Code::PartHeadersTooLarge,
            UploadsError::Malformed(_) => Code::MalformedMultipart,
            UploadsError::MissingHeader(_) => Code::MissingHeader,
            UploadsError::BadQuery(_) => Code::BadQuery,
            UploadsError::NotFound => Code::NotFound,
            UploadsError::DiskFull | UploadsError::LowDisk(_) => Code::InsufficientStorage,
            UploadsError::SaveFailed { .. } | UploadsError::Store(_) => Code::StoreFailed,
            UploadsError::Unavailable(_) => Code::Unavailable,
        }
    }

    fn closes_connection(&self) -> bool {
        // Any refusal of an upload may leave part of its body unread.
        !matches!(self, UploadsError::BadQuery(_) | UploadsError::NotFound)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_limit_is_named_in_its_message() {
        let cases: [(UploadsError, &str); 5] = [
            (
                UploadsError::RequestTooLarge { limit: 9 },
                "limits.max_request_bytes",
            ),
            (
                UploadsError::FileTooLarge { limit: 9 },
                "limits.max_file_bytes",
            ),
            (
                UploadsError::FieldTooLarge {
                    field: "note".into(),
                    limit: 9,
                },
                "limits.max_field_bytes",
            ),
            (UploadsError::TooManyParts { limit: 9 }, "limits.max_parts"),
            (
                UploadsError::PartHeadersTooLarge { limit: 9 },
                "limits.max_part_header_bytes",
            ),
        ];
        for (err, key) in cases {
            assert!(err.to_string().contains(key), "{err}");
            assert_eq!(err.status_code(), StatusCode::PAYLOAD_TOO_LARGE, "{err}");
        }
    }

    #[test]
    fn a_body_cap_becomes_the_limit_it_stands_for() {
        let over = || BodyError::TooLarge { limit: 5 };
        assert!(matches!(
            UploadsError::from_body(over(), Cap::File),
            UploadsError::FileTooLarge { limit: 5 }
        ));
        assert!(matches!(
            UploadsError::from_body(over(), Cap::Request),
            UploadsError::RequestTooLarge { limit: 5 }
        ));
        assert!(matches!(
            UploadsError::from_body(BodyError::Stalled, Cap::File),
            UploadsError::Body(BodyError::Stalled)
        ));
    }
}
