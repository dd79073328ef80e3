//! `POST /`: accept a urlencoded or JSON submission, store it, echo it.

use actix_web::http::header;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use inlet_http::errors::prefers_json;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio::time::Instant;
use tracing::Instrument;
use uuid::Uuid;

use crate::body;
use crate::error::FormsError;
use crate::json_body;
use crate::state::AppState;
use crate::urlencoded::{self, UrlencodedError};

/// The two kinds of body the form endpoint takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FormKind {
    Urlencoded,
    Json,
}

impl FormKind {
    /// Reads the kind from Content-Type; only UTF-8 (or no charset) is accepted.
    fn of(req: &HttpRequest) -> Result<Self, FormsError> {
        let mime = req
            .mime_type()
            .ok()
            .flatten()
            .ok_or(FormsError::UnsupportedMediaType)?;
        let kind = match (mime.type_().as_str(), mime.subtype().as_str()) {
            ("application", "x-www-form-urlencoded") => FormKind::Urlencoded,
            ("application", "json") => FormKind::Json,
            _ => return Err(FormsError::UnsupportedMediaType),
        };
        match mime.get_param(mime::CHARSET) {
            Some(charset) if !charset.as_str().eq_ignore_ascii_case("utf-8") => {
                Err(FormsError::UnsupportedMediaType)
            }
            _ => Ok(kind),
        }
    }

    fn media_type(self) -> &'static str {
        match self {
            FormKind::Urlencoded => "application/x-www-form-urlencoded",
            FormKind::Json => "application/json",
        }
    }
}

/// Handles `POST /`.
pub async fn submit(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, FormsError> {
    let kind = FormKind::of(&req)?;
    let declared = body::declared_length(req.headers())?;
    let deadline = Instant::now() + state.body_timeout;
    let body = body::read_capped(payload, declared, state.limits.max_body_bytes, deadline).await?;

    // `fields` is compact, single-line JSON; a JSON body is echoed as posted.
    let (fields, field_count, posted_json) = match kind {
        FormKind::Urlencoded => {
            let map = urlencoded::parse(&body, state.limits.max_fields).map_err(|e| match e {
                UrlencodedError::InvalidUtf8 => FormsError::InvalidUtf8,
                UrlencodedError::TooManyFields(limit) => FormsError::TooManyFields { limit },
            })?;
            let fields = serde_json::Value::Object(map);
            let count = fields.as_object().map_or(0, |m| m.len());
            (fields.to_string(), count, None)
        }
        FormKind::Json => {
            let text = std::str::from_utf8(&body).map_err(|_| FormsError::InvalidUtf8)?;
            let count =
                json_body::validate(text).map_err(|e| FormsError::InvalidJson(e.to_string()))?;
            (json_body::single_line(text), count, Some(text))
        }
    };

    let id = Uuid::now_v7();
    let received_at = OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .expect("UTC timestamps always format");
    // Every interpolated part is either fixed text or already valid JSON.
    let line = format!(
        r#"{{"id":"{id}","received_at":"{received_at}","content_type":"{}","fields":{fields}}}"#,
        kind.media_type()
    );
    let bytes = body.len();
    let span = tracing::info_span!(
        "forms.submission.stored",
        forms.submission.id = %id,
        forms.submission.content_type = kind.media_type(),
        // i64, because the OpenTelemetry layer exports u64 fields as strings.
        forms.submission.field_count = field_count as i64,
        forms.submission.bytes = bytes as i64,
    );
    let seq = state
        .journal
        .append(line.into_bytes())
        .instrument(span.clone())
        .await?;
    span.in_scope(|| {
        tracing::info!(
            submission_id = %id,
            seq,
            field_count,
            bytes,
            content_type = kind.media_type(),
            "submission stored"
        );
    });

    let echo = posted_json.unwrap_or(&fields);
    let answer_json = kind == FormKind::Json || prefers_json(req.headers());
    let response = if answer_json {
        HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .body(format!(r#"{{"data": {echo}}}"#))
    } else {
        HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
            .body(format!("You Posted: {echo}"))
    };
    Ok(response)
}
