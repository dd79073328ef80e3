//! `POST /`: accept a urlencoded or JSON submission, store it, echo it.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use inlet_http::body;
use inlet_http::errors::prefers_json;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tracing::Instrument;
use uuid::Uuid;

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

/// Handles `POST /`.
pub async fn submit(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, FormsError> {
    let kind = FormKind::of(&req)?;
    let body = body::read_capped(&req, payload, state.limits.max_body_bytes).await?;

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
