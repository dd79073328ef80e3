//! The trace id an item is stored with: the W3C trace id of the request or
//! SMTP session that stored it, so the item links to its trace in Jaeger.

use opentelemetry::trace::{TraceContextExt, TraceId};
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The trace id of [`current_context`], as 32 lowercase hex digits; `None`
/// when there is no valid one (no telemetry set up in this process).
pub fn current() -> Option<String> {
    of(&current_context())
}

/// The OpenTelemetry context of the current tracing span; outside one (a
/// handler before any span of its own), the context the request runs in.
pub fn current_context() -> opentelemetry::Context {
    let span = tracing::Span::current();
    if span.is_none() {
        opentelemetry::Context::current()
    } else {
        span.context()
    }
}

/// The trace id of `context`, if it is a valid one.
pub fn of(context: &opentelemetry::Context) -> Option<String> {
    let id = context.span().span_context().trace_id();
    (id != TraceId::INVALID).then(|| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceState};

    #[test]
    fn a_valid_trace_id_is_32_hex_digits_and_an_empty_context_has_none() {
        let id = TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap();
        let context = opentelemetry::Context::new().with_remote_span_context(SpanContext::new(
            id,
            SpanId::from_hex("00f067aa0ba902b7").unwrap(),
            TraceFlags::SAMPLED,
            true,
            TraceState::default(),
        ));
        assert_eq!(
            of(&context).as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        assert_eq!(of(&opentelemetry::Context::new()), None);
    }
}
