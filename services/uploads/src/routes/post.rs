//! `POST /` with `multipart/form-data`: every file part streamed to disk,
//! text fields processed, and the answer — a line per part, or JSON — given
//! only once every file is durable under its name.

use std::fmt::Write as _;
use std::time::Instant;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use inlet_http::client_address::client_address;
use inlet_http::errors::prefers_json;
use serde::Serialize;

use crate::error::UploadsError;
use crate::multipart::{self, Part, TextField};
use crate::receive::{commit_all, publish_stored, StoredFile};
use crate::state::AppState;
use crate::store::printable;

/// The JSON answer.
#[derive(Serialize)]
struct Answer<'a> {
    /// Every file stored, in the order sent.
    stored: &'a [StoredFile],
    /// Every text field, in the order sent.
    fields: &'a [TextField],
    /// File inputs submitted without a file.
    skipped: usize,
}

/// Handles `POST /`.
pub async fn post(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UploadsError> {
    let started = Instant::now();
    state.disk.check()?;
    let client = client_address(&req).to_string();
    let outcome = async {
        let received = multipart::read(&req, payload, &state).await?;
        let stored = commit_all(&state.store, received.files, &client).await?;
        Ok::<_, UploadsError>((received.parts, received.fields, received.skipped, stored))
    }
    .await;
    let (parts, fields, skipped, stored) = outcome?;
    state
        .metrics
        .stored("multipart", stored.len(), started.elapsed());
    publish_stored(&state.publisher, &stored);
    for field in &fields {
        tracing::debug!(field = %field.name, bytes = field.value.len(), "text field processed");
    }
    if prefers_json(req.headers()) {
        return Ok(HttpResponse::Ok().json(Answer {
            stored: &stored,
            fields: &fields,
            skipped,
        }));
    }
    let mut text = String::new();
    for part in parts {
        let _ = match part {
            Part::Field(at) => {
                writeln!(text, "processed \"{}\" input.", printable(&fields[at].name))
            }
            Part::File(at) => writeln!(
                text,
                "{} successfully saved!",
                printable(&stored[at].original_name)
            ),
        };
    }
    text.push_str("All files processed!\n");
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
        .body(text))
}
