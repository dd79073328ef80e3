//! The one place where failures become HTTP answers.
//!
//! Handlers return errors that implement [`PublicError`], which name their
//! [`Code`] (status and name come from its table); their responses carry an
//! [`ErrorReply`]. The [`render_errors`] middleware then writes every 4xx/5xx body
//! — ours, and those actix produces itself (404, 405, malformed requests) — as
//! JSON `{"error": {"code", "message"}}` when the client prefers JSON, and as
//! plain text otherwise. Internal error text never reaches a client.

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::HttpResponse;
use inlet_common::code::Code;

/// What a client is told about a failed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorReply {
    /// Stable, machine-readable code such as `payload_too_large`.
    pub code: &'static str,
    /// A sentence for people; never internal error text.
    pub message: String,
}

impl ErrorReply {
    /// What the client is told about `err`: its code and public message, or
    /// for an internal failure a fixed sentence. Server-side failures are
    /// logged here, once, with their causes (which are never sent).
    pub fn for_error<E: PublicError>(err: &E) -> Self {
        let code = err.code();
        let status = status_of(code);
        if status == actix_web::http::StatusCode::SERVICE_UNAVAILABLE {
            // Busy, or a dependency away for now: not a fault of ours, and
            // clients can ask as often as they like.
            tracing::warn!(error = %err, causes = %inlet_common::report::causes(err), code = code.name(), "request refused for now");
        } else if status.is_server_error() {
            tracing::error!(error = %err, causes = %inlet_common::report::causes(err), code = code.name(), "request failed");
        }
        let message = if code == Code::Internal {
            "internal error; the failure has been logged".into()
        } else {
            err.public_message()
        };
        Self {
            code: code.name(),
            message,
        }
    }

    /// The body and its content type: `{"error": {"code", "message"}}` when
    /// the client prefers JSON, the message as plain text otherwise.
    pub fn into_body(self, json: bool) -> (String, &'static str) {
        if json {
            let body = serde_json::json!({
                "error": { "code": self.code, "message": self.message }
            });
            (body.to_string(), "application/json")
        } else {
            (self.message, "text/plain; charset=utf-8")
        }
    }
}

/// Marks an error response whose body is already what the client should get
/// (for example `/readyz` reporting its checks); [`render_errors`] leaves it alone.
#[derive(Debug, Clone, Copy)]
pub struct OwnBody;

/// An error that knows its code and the message a client may see.
pub trait PublicError: std::error::Error {
    /// Which code this is; the status comes with it.
    fn code(&self) -> Code;
    /// What the client is told; the `Display` text unless overridden. It
    /// must say what failed in the client's terms, never why inside the
    /// server (that belongs in `source`, which is only logged).
    fn public_message(&self) -> String {
        self.to_string()
    }
    /// Whether the answer leaves part of the request unread, so the
    /// connection cannot carry another request and is closed.
    fn closes_connection(&self) -> bool {
        false
    }
    /// Seconds after which the client may try again (`Retry-After`): one
    /// second for every 503 unless overridden (`None` for a failure that
    /// waiting does not cure).
    fn retry_after(&self) -> Option<u32> {
        retry_after_for(self.code())
    }
}

/// The `Retry-After` an answer with `code` carries by default: one second
/// for every 503, none otherwise.
pub fn retry_after_for(code: Code) -> Option<u32> {
    (status_of(code) == StatusCode::SERVICE_UNAVAILABLE).then_some(1)
}

/// The HTTP status of `code`.
pub fn status_of(code: Code) -> StatusCode {
    StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// Builds the response for `err`, logging server-side failures with their causes.
pub fn error_response<E: PublicError>(err: &E) -> HttpResponse {
    let status = status_of(err.code());
    let reply = ErrorReply::for_error(err);
    let mut res = HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
        .body(reply.message.clone());
    if let Some(seconds) = err.retry_after() {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    if err.closes_connection() {
        res.head_mut()
            .set_connection_type(actix_web::http::ConnectionType::Close);
    }
    res.extensions_mut().insert(reply);
    res
}

/// A reply for an error response that did not come from a [`PublicError`].
fn generic_reply(status: StatusCode) -> ErrorReply {
    ErrorReply {
        code: Code::for_status(status.as_u16()).map_or("client_error", Code::name),
        message: status
            .canonical_reason()
            .unwrap_or("Request failed")
            .to_owned(),
    }
}

/// Whether the client ranks JSON above text in its `Accept` header.
pub fn prefers_json(headers: &HeaderMap) -> bool {
    accept_prefers_json(headers.get_all(header::ACCEPT))
}

/// [`prefers_json`] over the values of the `Accept` header(s) themselves.
fn accept_prefers_json<'a>(values: impl IntoIterator<Item = &'a HeaderValue>) -> bool {
    let mut ranges: Vec<(f32, usize, String)> = values
        .into_iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .enumerate()
        .filter_map(|(i, item)| {
            let mut parts = item.split(';');
            let range = parts.next()?.trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            (q > 0.0 && !range.is_empty()).then_some((q, i, range))
        })
        .collect();
    // Highest quality first; ties keep the client's order.
    ranges.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, _, range) in ranges {
        if range == "application/json" || range.ends_with("+json") {
            return true;
        }
        if range.starts_with("text/") || range == "*/*" {
            return false;
        }
    }
    false
}

/// Middleware: writes every error body in the format the client asked for.
pub async fn render_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<BoxBody>>, actix_web::Error> {
    // Negotiation is only needed for errors; keep the header values (cheap
    // clones, no allocation when there are none) and parse them later.
    let accept: Vec<HeaderValue> = req.headers().get_all(header::ACCEPT).cloned().collect();
    // Handler and extractor errors arrive here as responses; only a failing
    // middleware would return `Err`, and none of ours do.
    let res = next.call(req).await?.map_into_boxed_body();
    let status = res.status();
    let keep = res.response().extensions().contains::<OwnBody>();
    if keep || !(status.is_client_error() || status.is_server_error()) {
        return Ok(res.map_into_left_body());
    }
    let reply = res
        .response()
        .extensions()
        .get::<ErrorReply>()
        .cloned()
        .unwrap_or_else(|| generic_reply(status));
    let (body, content_type) = reply.into_body(accept_prefers_json(&accept));
    Ok(res.map_body(|head, _old| {
        head.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        EitherBody::right(BoxBody::new(body))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn json_only_when_ranked_above_text() {
        assert!(prefers_json(&accept("application/json")));
        assert!(prefers_json(&accept("text/html;q=0.5, application/json")));
        assert!(prefers_json(&accept("application/problem+json")));
        assert!(!prefers_json(&accept("*/*")));
        assert!(!prefers_json(&accept("text/html,application/json;q=0.9")));
        assert!(!prefers_json(&accept("application/json;q=0")));
        assert!(!prefers_json(&HeaderMap::new()));
    }
}
