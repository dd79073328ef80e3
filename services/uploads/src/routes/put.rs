//! `PUT /`: the raw body is the file; its name and field come in
//! `x-filename` and `x-field`. Streamed to disk, counted against the cap
//! whatever Content-Length says, and kept only once whole and durable.

use std::time::{Duration, Instant, SystemTime};

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use inlet_http::body::BodyReader;
use inlet_http::errors::prefers_json;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tracing::Instrument;

use crate::error::UploadsError;
use crate::state::AppState;
use crate::store::{stored_name, Incoming};

/// What the client is told about a stored file.
#[derive(Debug, Serialize)]
pub struct StoredFile {
    /// The name it is stored under.
    pub name: String,
    /// The name the client sent.
    pub original_name: String,
    /// The form field it came from.
    pub field: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256, hex, computed while it streamed in.
    pub sha256: String,
}

/// Handles `PUT /`.
pub async fn put(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UploadsError> {
    let original_name = header_text(&req, "x-filename")?;
    let field = header_text(&req, "x-field")?;
    let reader = BodyReader::new(&req, payload, state.limits.max_file_bytes)?;
    let span = tracing::info_span!(
        "uploads.file.stored",
        uploads.file.name = tracing::field::Empty,
        uploads.file.size = tracing::field::Empty,
        uploads.file.sha256 = tracing::field::Empty,
        uploads.file.duration_ms = tracing::field::Empty,
    );
    let stored = receive(&state, reader, field, original_name)
        .instrument(span.clone())
        .await?;
    span.in_scope(|| {
        tracing::info!(
            stored_name = %stored.name,
            size = stored.size,
            client.address = %req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_default(),
            "file stored"
        );
    });
    Ok(if prefers_json(req.headers()) {
        HttpResponse::Ok().json(serde_json::json!({ "stored": [stored] }))
    } else {
        HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
            .body(format!("{} successfully saved!\n", stored.original_name))
    })
}

/// Streams the body into a new file, hashing it, and commits it.
async fn receive(
    state: &AppState,
    mut reader: BodyReader,
    field: String,
    original_name: String,
) -> Result<StoredFile, UploadsError> {
    let started = Instant::now();
    let mut incoming = Incoming::create(&state.uploads_dir).await?;
    let mut hasher = Sha256::new();
    while let Some(chunk) = reader.next_chunk().await? {
        hasher.update(&chunk);
        incoming.write(&chunk).await?;
    }
    let size = incoming.len();
    let millis = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_millis();
    let name = incoming
        .commit(&stored_name(&field, millis, &original_name))
        .await?;
    let sha256 = format!("{:x}", hasher.finalize());
    let span = tracing::Span::current();
    span.record("uploads.file.name", name.as_str());
    span.record("uploads.file.size", size as i64);
    span.record("uploads.file.sha256", sha256.as_str());
    span.record(
        "uploads.file.duration_ms",
        started.elapsed().as_millis() as i64,
    );
    Ok(StoredFile {
        name,
        original_name,
        field,
        size,
        sha256,
    })
}

/// A required header as text (UTF-8, invalid bytes replaced).
fn header_text(req: &HttpRequest, name: &'static str) -> Result<String, UploadsError> {
    let value = req
        .headers()
        .get(name)
        .ok_or(UploadsError::MissingHeader(name))?;
    Ok(String::from_utf8_lossy(value.as_bytes()).into_owned())
}
