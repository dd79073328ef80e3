//! Reading request bodies the same way in every service: the content type
//! checked, the declared length checked before anything is read, the actual
//! bytes counted against a cap, and the whole body bound by
//! `http.body_timeout_ms`.
//!
//! Every [`BodyError`] is an answer given before the body was fully read, so
//! it closes the connection: the unread rest must never be taken for the
//! next request.

use std::time::Duration;

use actix_web::http::header::{self, HeaderMap};
use actix_web::web::{self, Bytes, BytesMut};
use actix_web::{HttpMessage, HttpRequest};
use futures_util::StreamExt;
use inlet_common::code::Code;
use tokio::time::{timeout_at, Instant};

use crate::errors::PublicError;

/// How much of a declared length is reserved up front; a client's claim is
/// never trusted for more.
const MAX_RESERVE: u64 = 64 * 1024;

/// Why a request body was refused.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// The Content-Type is not one the endpoint takes, or names another charset.
    #[error("unsupported content type: send {} (UTF-8)", .accepted.join(" or "))]
    UnsupportedMediaType {
        /// The media types the endpoint takes.
        accepted: &'static [&'static str],
    },
    /// Neither Content-Length nor chunked transfer encoding was given.
    #[error("a Content-Length header (or chunked transfer encoding) is required")]
    LengthRequired,
    /// Content-Length is not a plain decimal number.
    #[error("the Content-Length header is not a whole number of bytes")]
    BadContentLength,
    /// The declared or actual body exceeds the cap.
    #[error("body larger than the {limit}-byte limit")]
    TooLarge {
        /// The configured cap.
        limit: u64,
    },
    /// The client stopped sending before the body was complete.
    #[error("the body ended before its declared length")]
    Incomplete,
    /// The body did not arrive within `http.body_timeout_ms`.
    #[error("the body was not received in time (http.body_timeout_ms)")]
    Timeout,
    /// The body stalled for longer than `http.body_idle_timeout_ms`.
    #[error("the body stalled: nothing arrived for too long (http.body_idle_timeout_ms)")]
    Stalled,
}

impl PublicError for BodyError {
    fn code(&self) -> Code {
        match self {
            BodyError::UnsupportedMediaType { .. } => Code::UnsupportedMediaType,
            BodyError::LengthRequired => Code::LengthRequired,
            BodyError::BadContentLength => Code::BadContentLength,
            BodyError::TooLarge { .. } => Code::PayloadTooLarge,
            BodyError::Incomplete => Code::IncompleteBody,
            BodyError::Timeout | BodyError::Stalled => Code::BodyTimeout,
        }
    }

    fn closes_connection(&self) -> bool {
        true
    }
}

/// The time a whole body may take (`http.body_timeout_ms`) and the longest
/// pause within it (`http.body_idle_timeout_ms`); [`crate::serve`] puts it in
/// every app, so every handler that reads through this module is bound by it.
#[derive(Debug, Clone, Copy)]
pub struct BodyTimeout {
    /// The whole body's deadline, from the first read.
    pub total: Duration,
    /// The longest wait for the next piece.
    pub idle: Duration,
}

/// Which of `accepted` the request's Content-Type is; any charset but UTF-8
/// is refused.
pub fn media_type(
    req: &HttpRequest,
    accepted: &'static [&'static str],
) -> Result<&'static str, BodyError> {
    let refused = || BodyError::UnsupportedMediaType { accepted };
    let mime = req.mime_type().ok().flatten().ok_or_else(refused)?;
    let found = accepted
        .iter()
        .find(|a| a.eq_ignore_ascii_case(mime.essence_str()))
        .ok_or_else(refused)?;
    match mime.get_param(mime::CHARSET) {
        Some(charset) if !charset.as_str().eq_ignore_ascii_case("utf-8") => Err(refused()),
        _ => Ok(found),
    }
}

/// The body length a request declares: `Some(n)` for Content-Length, `None`
/// for chunked; neither is refused (411), a malformed length too (400).
pub fn declared_length(headers: &HeaderMap) -> Result<Option<u64>, BodyError> {
    if let Some(value) = headers.get(header::CONTENT_LENGTH) {
        let digits = value.to_str().map_err(|_| BodyError::BadContentLength)?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(BodyError::BadContentLength);
        }
        return digits
            .parse::<u64>()
            .map(Some)
            .map_err(|_| BodyError::BadContentLength);
    }
    let chunked = headers
        .get(header::TRANSFER_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        Ok(None)
    } else {
        Err(BodyError::LengthRequired)
    }
}

/// A request body read chunk by chunk under a byte cap and a deadline: the
/// declared length is checked before anything is read, actual bytes are
/// counted as they arrive whatever the headers claimed, and a body shorter
/// than declared is refused.
pub struct BodyReader {
    payload: web::Payload,
    declared: Option<u64>,
    cap: u64,
    deadline: Instant,
    idle: Duration,
    read: u64,
}

impl BodyReader {
    /// Starts reading `req`'s body under `cap` bytes and the app's
    /// [`BodyTimeout`]; a declared length over `cap` is refused at once.
    pub fn new(req: &HttpRequest, payload: web::Payload, cap: u64) -> Result<Self, BodyError> {
        let declared = declared_length(req.headers())?;
        if declared.is_some_and(|n| n > cap) {
            return Err(BodyError::TooLarge { limit: cap });
        }
        let timeout = *req
            .app_data::<BodyTimeout>()
            .expect("inlet_http::serve registers the body timeout");
        Ok(Self {
            payload,
            declared,
            cap,
            deadline: Instant::now() + timeout.total,
            idle: timeout.idle,
            read: 0,
        })
    }

    /// The declared length, if the body has one.
    pub fn declared(&self) -> Option<u64> {
        self.declared
    }

    /// The next chunk, or `None` once the whole body has been read.
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>, BodyError> {
        let stall = Instant::now() + self.idle;
        let chunk = match timeout_at(self.deadline.min(stall), self.payload.next()).await {
            Err(_elapsed) if stall < self.deadline => return Err(BodyError::Stalled),
            Err(_elapsed) => return Err(BodyError::Timeout),
            Ok(None) => {
                return match self.declared {
                    Some(n) if n != self.read => Err(BodyError::Incomplete),
                    _ => Ok(None),
                };
            }
            Ok(Some(Err(err))) => {
                tracing::debug!(error = %err, "request body ended early");
                return Err(BodyError::Incomplete);
            }
            Ok(Some(Ok(chunk))) => chunk,
        };
        self.read += chunk.len() as u64;
        if self.read > self.cap {
            return Err(BodyError::TooLarge { limit: self.cap });
        }
        Ok(Some(chunk))
    }
}

/// Reads the whole body of `req` into memory, refusing it as soon as it
/// passes `cap` bytes or the app's [`BodyTimeout`] (see [`BodyReader`]).
pub async fn read_capped(
    req: &HttpRequest,
    payload: web::Payload,
    cap: u64,
) -> Result<BytesMut, BodyError> {
    collect(BodyReader::new(req, payload, cap)?).await
}

async fn collect(mut reader: BodyReader) -> Result<BytesMut, BodyError> {
    let reserve = reader.declared().unwrap_or(0).min(MAX_RESERVE) as usize;
    let mut body = BytesMut::with_capacity(reserve);
    while let Some(chunk) = reader.next_chunk().await? {
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn declared_lengths() {
        let cl = header::CONTENT_LENGTH;
        assert_eq!(
            declared_length(&headers(&[(cl.clone(), "42")])).unwrap(),
            Some(42)
        );
        for bad in [
            "+5",
            "-1",
            " 5",
            "5 ",
            "0x10",
            "",
            "99999999999999999999999",
        ] {
            assert!(
                matches!(
                    declared_length(&headers(&[(cl.clone(), bad)])),
                    Err(BodyError::BadContentLength)
                ),
                "{bad:?}"
            );
        }
        let te = header::TRANSFER_ENCODING;
        assert_eq!(declared_length(&headers(&[(te, "Chunked")])).unwrap(), None);
        assert!(matches!(
            declared_length(&HeaderMap::new()),
            Err(BodyError::LengthRequired)
        ));
    }

    #[test]
    fn the_unsupported_type_message_names_what_is_taken() {
        let err = BodyError::UnsupportedMediaType {
            accepted: &["application/json", "text/csv"],
        };
        assert_eq!(
            err.to_string(),
            "unsupported content type: send application/json or text/csv (UTF-8)"
        );
    }
}
