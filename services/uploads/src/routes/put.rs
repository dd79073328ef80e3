//! `PUT /`: the raw body is the file; its name and field come in
//! `x-filename` and `x-field`. Streamed to disk, counted against
//! `limits.max_file_bytes` whatever Content-Length says, and kept only once
//! whole and durable.

use std::time::Instant;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use inlet_http::body::BodyReader;
use inlet_http::client_address::client_address;
use inlet_http::errors::prefers_json;

use crate::error::{Cap, UploadsError};
use crate::receive::{commit_all, publish_stored, FileSink, StoredFile};
use crate::state::AppState;
use crate::store::printable;

/// Handles `PUT /`.
pub async fn put(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UploadsError> {
    let started = Instant::now();
    state.disk.check()?;
    let client = client_address(&req).to_string();
    let stored = receive(&req, payload, &state, &client).await?;
    state.metrics.stored("put", 1, started.elapsed());
    publish_stored(&state.publisher, std::slice::from_ref(&stored));
    Ok(if prefers_json(req.headers()) {
        HttpResponse::Ok().json(serde_json::json!({ "stored": [stored] }))
    } else {
        HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
            .body(format!(
                "{} successfully saved!\n",
                printable(&stored.original_name)
            ))
    })
}

/// Streams the body into a new file and names it.
async fn receive(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    client: &str,
) -> Result<StoredFile, UploadsError> {
    let original_name = header_text(req, "x-filename")?;
    let field = header_text(req, "x-field")?;
    let mut reader = BodyReader::new(req, payload, state.limits.max_file_bytes)
        .map_err(|err| UploadsError::from_body(err, Cap::File))?;
    let saving = |err: UploadsError| err.saving(&original_name);
    let mut sink = FileSink::start(state, client_address(req).0);
    while let Some(chunk) = reader
        .next_chunk()
        .await
        .map_err(|err| UploadsError::from_body(err, Cap::File))?
    {
        state.metrics.bytes_received.inc_by(chunk.len() as u64);
        sink.write(&chunk).await.map_err(saving)?;
    }
    let sealed = sink.seal(&field, &original_name).await.map_err(saving)?;
    let mut stored = commit_all(&state.store, vec![sealed], client).await?;
    Ok(stored.remove(0))
}

/// A required header as text (UTF-8, invalid bytes replaced).
fn header_text(req: &HttpRequest, name: &'static str) -> Result<String, UploadsError> {
    let value = req
        .headers()
        .get(name)
        .ok_or(UploadsError::MissingHeader(name))?;
    Ok(String::from_utf8_lossy(value.as_bytes()).into_owned())
}
