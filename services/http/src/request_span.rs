//! The request span: an OpenTelemetry server span around every request,
//! continuing an incoming W3C `traceparent`, named `{method} {route}` with
//! the semantic conventions' attributes. Its context is current while the
//! request is handled, so log lines carry its trace id and the spans of the
//! handler are its children.
//!
//! Our own rather than opentelemetry-instrumentation-actix-web's: that one
//! builds about fourteen attributes on every request (parsing the
//! connection info, the host and port) whether or not the span is kept, and
//! names the client from `X-Forwarded-For` sent by anyone. This one sets
//! attributes only on a span that records, and names the client by
//! [`crate::client_address`]'s rule.

use std::sync::OnceLock;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::HeaderMap;
use actix_web::http::Version;
use actix_web::middleware::Next;
use opentelemetry::global::{self, BoxedTracer};
use opentelemetry::propagation::Extractor;
use opentelemetry::trace::{FutureExt, Span, SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::KeyValue;

use crate::client_address::client_address;

/// The tracer, taken from the global provider on the first request (the
/// service sets the provider up before it serves).
static TRACER: OnceLock<BoxedTracer> = OnceLock::new();

/// Middleware: the request span, outermost.
pub async fn trace_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let tracer = TRACER.get_or_init(|| global::tracer("inlet-http"));
    let parent = global::get_text_map_propagator(|p| p.extract(&Headers(req.headers())));
    let method = req.method().as_str();
    // Named for real only if it records: a dropped span's name is never read.
    let mut span = tracer
        .span_builder("HTTP")
        .with_kind(SpanKind::Server)
        .start_with_context(tracer, &parent);
    if span.is_recording() {
        let route = req.match_pattern();
        span.update_name(match &route {
            Some(route) => format!("{method} {route}"),
            None => method.to_owned(),
        });
        span.set_attributes([
            KeyValue::new("http.request.method", method.to_owned()),
            KeyValue::new("url.path", req.path().to_owned()),
            KeyValue::new("client.address", client_address(req.request()).to_string()),
            KeyValue::new("network.protocol.version", protocol_version(req.version())),
        ]);
        if let Some(route) = route {
            span.set_attribute(KeyValue::new("http.route", route));
        }
    }
    let cx = parent.with_span(span);
    let res = next.call(req).with_context(cx.clone()).await;
    let span = cx.span();
    match &res {
        Ok(res) => {
            let status = res.status();
            span.set_attribute(KeyValue::new(
                "http.response.status_code",
                i64::from(status.as_u16()),
            ));
            if status.is_client_error() || status.is_server_error() {
                span.set_attribute(KeyValue::new("error.type", status.as_u16().to_string()));
            }
            if status.is_server_error() {
                span.set_status(Status::error(status.canonical_reason().unwrap_or("")));
            }
        }
        Err(err) => span.set_status(Status::error(err.to_string())),
    }
    span.end();
    res
}

fn protocol_version(version: Version) -> &'static str {
    match version {
        Version::HTTP_09 => "0.9",
        Version::HTTP_10 => "1.0",
        Version::HTTP_2 => "2",
        Version::HTTP_3 => "3",
        _ => "1.1",
    }
}

/// The request's headers, for the propagator.
struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|name| name.as_str()).collect()
    }
}
