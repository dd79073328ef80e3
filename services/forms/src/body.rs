//! Reading a request body under a byte cap and a deadline.

use actix_web::http::header::{self, HeaderMap};
use actix_web::web::{self, BytesMut};
use futures_util::StreamExt;
use tokio::time::{timeout_at, Instant};

use crate::error::FormsError;

/// The body length a request declares: `Some(n)` for Content-Length, `None` for chunked.
///
/// A request with neither cannot carry a form, so it is refused (411).
pub fn declared_length(headers: &HeaderMap) -> Result<Option<u64>, FormsError> {
    if let Some(value) = headers.get(header::CONTENT_LENGTH) {
        // actix has already refused malformed Content-Length values with 400.
        let length = value
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .ok_or(FormsError::LengthRequired)?;
        return Ok(Some(length));
    }
    let chunked = headers
        .get(header::TRANSFER_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        Ok(None)
    } else {
        Err(FormsError::LengthRequired)
    }
}

/// Reads the whole body, refusing it as soon as it passes `cap` bytes or `deadline`.
///
/// The declared length is checked before anything is read; actual bytes are
/// counted as they arrive, whatever the headers claimed.
pub async fn read_capped(
    mut payload: web::Payload,
    declared: Option<u64>,
    cap: u64,
    deadline: Instant,
) -> Result<BytesMut, FormsError> {
    if declared.is_some_and(|n| n > cap) {
        return Err(FormsError::TooLarge { limit: cap });
    }
    // Never trust a declared length for more than a small head start.
    let reserve = declared.unwrap_or(0).min(64 * 1024) as usize;
    let mut body = BytesMut::with_capacity(reserve);
    loop {
        let chunk = match timeout_at(deadline, payload.next()).await {
            Err(_elapsed) => return Err(FormsError::BodyTimeout),
            Ok(None) => break,
            Ok(Some(Err(err))) => {
                tracing::debug!(error = %err, "request body ended early");
                return Err(FormsError::IncompleteBody);
            }
            Ok(Some(Ok(chunk))) => chunk,
        };
        if body.len() as u64 + chunk.len() as u64 > cap {
            return Err(FormsError::TooLarge { limit: cap });
        }
        body.extend_from_slice(&chunk);
    }
    if declared.is_some_and(|n| n != body.len() as u64) {
        return Err(FormsError::IncompleteBody);
    }
    Ok(body)
}
