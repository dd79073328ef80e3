//! `--trace`: the command runs inside a client span whose W3C
//! `traceparent` goes out with the request (an HTTP header, the WebSocket
//! handshake, a mail header). The span is exported when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set (the standard `OTEL_*` variables
//! apply), so the trace starts at the client in Jaeger.

use std::collections::HashMap;

use inlet_common::log_format::LogFormat;
use inlet_common::telemetry::{self, TelemetryGuard, TelemetrySettings};
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TraceContextExt;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::error::CliError;
use crate::style::{dim, Stream};

/// The client's span for one command, or nothing without `--trace`.
pub struct ClientTrace {
    span: Span,
    guard: Option<TelemetryGuard>,
}

impl ClientTrace {
    /// No tracing: no span, no header.
    pub fn off() -> Self {
        Self {
            span: Span::none(),
            guard: None,
        }
    }

    /// Starts telemetry and the client span `inlet <command>` aimed at `target`.
    /// Library logs stay off unless `RUST_LOG` asks for them.
    pub fn start(command: &str, target: &str) -> Result<Self, CliError> {
        let env: HashMap<String, String> = std::env::vars().collect();
        let mut settings = TelemetrySettings::resolve("inlet-cli", None, LogFormat::Text, &env);
        if !env.contains_key("RUST_LOG") {
            // The filter also decides which spans exist: keep the client's own.
            settings.log_filter = "off,inlet=info".to_owned();
        }
        let guard =
            telemetry::init(&settings).map_err(|err| CliError::Usage(format!("--trace: {err}")))?;
        let span = tracing::info_span!(
            "inlet.client",
            otel.name = %format!("inlet {command}"),
            otel.kind = "client",
            otel.status_code = tracing::field::Empty,
            inlet.command = command,
            url.full = target,
            http.response.status_code = tracing::field::Empty,
        );
        let trace = Self {
            span,
            guard: Some(guard),
        };
        match trace.trace_id() {
            Some(id) => eprintln!("{}", dim(Stream::Stderr, &format!("trace {id}"))),
            None => {
                eprintln!("--trace: tracing is off (OTEL_SDK_DISABLED); no traceparent is sent")
            }
        }
        Ok(trace)
    }

    /// The span the command runs in.
    pub fn span(&self) -> &Span {
        &self.span
    }

    /// The `traceparent` value to send, when tracing.
    pub fn traceparent(&self) -> Option<String> {
        self.guard.as_ref()?;
        let context = self.span.context();
        if !context.span().span_context().is_valid() {
            return None;
        }
        let mut fields = HashMap::new();
        TraceContextPropagator::new().inject_context(&context, &mut fields);
        fields.remove("traceparent")
    }

    /// Records the HTTP status the command got.
    pub fn record_status(&self, status: u16) {
        self.span
            .record("http.response.status_code", i64::from(status));
        if status >= 500 {
            self.span.record("otel.status_code", "ERROR");
        }
    }

    /// Marks the span failed.
    pub fn record_error(&self) {
        self.span.record("otel.status_code", "ERROR");
    }

    fn trace_id(&self) -> Option<String> {
        let context = self.span.context();
        let span_context = context.span().span_context().clone();
        span_context
            .is_valid()
            .then(|| span_context.trace_id().to_string())
    }

    /// Ends the span and sends it before the process exits.
    pub async fn finish(self) {
        let Self { span, guard } = self;
        drop(span);
        if let Some(guard) = guard {
            let _ = tokio::task::spawn_blocking(move || guard.shutdown()).await;
        }
    }
}
