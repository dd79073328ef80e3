//! `POST /`: accept a urlencoded or JSON submission, store it, echo it.

use actix_web::http::header;
use actix_web::web::BytesMut;
use actix_web::{web, HttpRequest, HttpResponse};
use inlet_common::record::Stamp;
use inlet_http::body;
use inlet_http::client_address::{client_address, ClientAddress};
use inlet_http::errors::prefers_json;
use tracing::Instrument;

use crate::error::FormsError;
use crate::inflight::Reservation;
use crate::json_body;
use crate::metrics::ContentType;
use crate::state::AppState;
use crate::store::{Record, SubmissionStore};
use crate::urlencoded::{self, UrlencodedError};
use inlet_common::publish::{event, new_event, FormSubmitted};

/// The two kinds of body the form endpoint takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FormKind {
    Urlencoded,
    Json,
}

impl FormKind {
    /// The media types `POST /` takes, in the order its errors name them.
    const ACCEPTED: &'static [&'static str] =
        &["application/x-www-form-urlencoded", "application/json"];

    /// Reads the kind from Content-Type; only UTF-8 (or no charset) is accepted.
    fn of(req: &HttpRequest) -> Result<Self, FormsError> {
        Ok(match body::media_type(req, Self::ACCEPTED)? {
            "application/json" => FormKind::Json,
            _ => FormKind::Urlencoded,
        })
    }

    fn media_type(self) -> &'static str {
        match self {
            FormKind::Urlencoded => "application/x-www-form-urlencoded",
            FormKind::Json => "application/json",
        }
    }
}

/// A submission read and checked, not yet stored.
struct Submission {
    kind: FormKind,
    /// The fields as compact, single-line JSON: what is stored.
    fields: String,
    /// Top-level fields (or array items) in it.
    field_count: usize,
    /// The body as posted; a JSON body is echoed exactly as sent.
    body: BytesMut,
    /// Its room in the in-flight budget, held until it is answered.
    _room: Reservation,
}

impl Submission {
    /// What the answer shows: a JSON body as posted, a form as its fields.
    fn echo(&self) -> &str {
        match self.kind {
            // Checked to be UTF-8 while parsing.
            FormKind::Json => std::str::from_utf8(&self.body).unwrap_or(&self.fields),
            FormKind::Urlencoded => &self.fields,
        }
    }
}

/// Handles `POST /`: parse, store, reply; counts what it stored (refusals
/// are counted by the route's `count_refusals`).
pub async fn submit(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, FormsError> {
    let submission = parse(&req, payload, &state).await?;
    let submission = store(&state, submission, client_address(&req)).await?;
    let content_type = submission.kind.media_type();
    state
        .metrics
        .stored
        .get_or_create(&ContentType { content_type })
        .inc();
    Ok(reply(&req, &submission))
}

/// Reads the whole body under the cap and the body timeout, holding room for
/// it in the in-flight budget: its declared length up front (a length over
/// the cap is 413 before that), or, for a chunked body, growing as it comes.
async fn read_within_budget(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<(BytesMut, Reservation), FormsError> {
    let mut reader = body::BodyReader::new(req, payload, state.limits.max_body_bytes)?;
    let declared = reader.declared();
    let mut room = state
        .inflight
        .try_reserve(declared.unwrap_or(0))
        .ok_or(FormsError::Busy)?;
    let mut body = BytesMut::with_capacity(declared.unwrap_or(0) as usize);
    while let Some(chunk) = reader.next_chunk().await? {
        let total = (body.len() + chunk.len()) as u64;
        if declared.is_none() && !room.try_grow_to(total) {
            return Err(FormsError::Busy);
        }
        state.metrics.body_bytes.inc_by(chunk.len() as u64);
        body.extend_from_slice(&chunk);
    }
    Ok((body, room))
}

/// Reads the body under the configured limits and checks it is a form or JSON.
async fn parse(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<Submission, FormsError> {
    let kind = FormKind::of(req)?;
    state.disk.check()?;
    let (body, room) = read_within_budget(req, payload, state).await?;
    let (fields, field_count) = match kind {
        FormKind::Urlencoded => {
            let map = urlencoded::parse(&body, state.limits.max_fields).map_err(|e| match e {
                UrlencodedError::InvalidUtf8 => FormsError::InvalidUtf8,
                UrlencodedError::TooManyFields(limit) => FormsError::TooManyFields { limit },
            })?;
            let count = map.len();
            (serde_json::Value::Object(map).to_string(), count)
        }
        FormKind::Json => {
            let text = std::str::from_utf8(&body).map_err(|_| FormsError::InvalidUtf8)?;
            let count = json_body::validate(text, state.limits.max_json_depth)
                .map_err(|e| FormsError::InvalidJson(e.to_string()))?;
            (json_body::single_line(text), count)
        }
    };
    Ok(Submission {
        kind,
        fields,
        field_count,
        body,
        _room: room,
    })
}

/// Makes the submission durable as one journal line, in its own span.
async fn store(
    state: &AppState,
    submission: Submission,
    client: ClientAddress,
) -> Result<Submission, FormsError> {
    let stamp = Stamp::now();
    let id = stamp.id;
    let content_type = submission.kind.media_type();
    let bytes = submission.body.len();
    let trace_id = inlet_common::trace_id::current();
    let line = Record {
        stamp: &stamp,
        trace_id: trace_id.as_deref(),
        size: bytes as u64,
        content_type,
        client: client.0,
        fields: &submission.fields,
    }
    .to_line();
    let field_count = submission.field_count;
    let span = tracing::info_span!(
        "forms.submission.stored",
        forms.submission.id = %id,
        forms.submission.content_type = content_type,
        // i64, because the OpenTelemetry layer exports u64 fields as strings.
        forms.submission.field_count = field_count as i64,
        forms.submission.bytes = bytes as i64,
    );
    let seq = state.store.append(line).instrument(span.clone()).await?;
    span.in_scope(|| {
        tracing::info!(
            submission_id = %id,
            seq,
            client.address = %client,
            field_count,
            bytes,
            content_type,
            "submission stored"
        );
        if state.publisher.is_enabled() {
            state.publisher.publish(new_event(
                id,
                stamp.received_at,
                "inlet-forms",
                event::Kind::FormSubmitted(FormSubmitted {
                    submission_id: id.to_string(),
                    content_type: content_type.to_owned(),
                    field_names: field_names(&submission.fields),
                    size: bytes as u64,
                }),
            ));
        }
    });
    Ok(submission)
}

/// The top-level field names of a stored submission, in order (none for a
/// JSON body that is not an object).
fn field_names(fields: &str) -> Vec<String> {
    serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(fields)
        .map(|map| map.into_iter().map(|(name, _)| name).collect())
        .unwrap_or_default()
}

/// The seed's answer (`You Posted: ...`), or JSON for a JSON post or a client
/// that prefers it.
fn reply(req: &HttpRequest, submission: &Submission) -> HttpResponse {
    let echo = submission.echo();
    if submission.kind == FormKind::Json || prefers_json(req.headers()) {
        HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .body(format!(r#"{{"data": {echo}}}"#))
    } else {
        HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
            .body(format!("You Posted: {echo}"))
    }
}
