//! Log line formats (text and JSON) that carry the current trace and span ids.

use std::fmt;

use opentelemetry::trace::TraceContextExt;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{self, FormatEvent, FormatFields, Writer};
use tracing_subscriber::fmt::FmtContext;
use tracing_subscriber::registry::LookupSpan;

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One readable line per event.
    #[default]
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Formats events as text or JSON and adds `trace_id`/`span_id` inside a span.
pub struct TraceAwareFormat {
    format: LogFormat,
    text: format::Format<format::Full>,
}

impl TraceAwareFormat {
    /// A formatter for the given output format.
    pub fn new(format: LogFormat) -> Self {
        Self {
            format,
            text: format::Format::default().with_ansi(false),
        }
    }
}

/// The ids of the OpenTelemetry span that is current, if any.
fn current_trace_ids() -> Option<(String, String)> {
    let cx = opentelemetry::Context::current();
    let span = cx.span();
    let sc = span.span_context();
    sc.is_valid()
        .then(|| (sc.trace_id().to_string(), sc.span_id().to_string()))
}

impl<S, N> FormatEvent<S, N> for TraceAwareFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let ids = current_trace_ids();
        match self.format {
            LogFormat::Text => {
                let mut line = String::new();
                self.text.format_event(ctx, Writer::new(&mut line), event)?;
                let line = line.trim_end_matches('\n');
                match ids {
                    Some((trace, span)) => {
                        writeln!(writer, "{line} trace_id={trace} span_id={span}")
                    }
                    None => writeln!(writer, "{line}"),
                }
            }
            LogFormat::Json => {
                let meta = event.metadata();
                let mut obj = Map::new();
                let now = crate::record::rfc3339(OffsetDateTime::now_utc());
                obj.insert("timestamp".into(), now.into());
                obj.insert("level".into(), meta.level().as_str().into());
                obj.insert("target".into(), meta.target().into());
                if let Some(span) = ctx.lookup_current() {
                    obj.insert("span".into(), span.name().into());
                }
                if let Some((trace, span)) = ids {
                    obj.insert("trace_id".into(), trace.into());
                    obj.insert("span_id".into(), span.into());
                }
                let mut fields = Map::new();
                event.record(&mut JsonFields(&mut fields));
                if let Some(message) = fields.remove("message") {
                    obj.insert("message".into(), message);
                }
                if !fields.is_empty() {
                    obj.insert("fields".into(), Value::Object(fields));
                }
                writeln!(writer, "{}", Value::Object(obj))
            }
        }
    }
}

/// Collects an event's fields as JSON values.
struct JsonFields<'a>(&'a mut Map<String, Value>);

impl Visit for JsonFields<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0.insert(field.name().into(), value.to_string().into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().into(), format!("{value:?}").into());
    }
}
