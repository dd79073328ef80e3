//! The JSON shape of Jaeger's HTTP query API (`/api/services`, `/api/traces`,
//! `/api/traces/{id}`), the one the Jaeger UI reads. The stand-in writes it and
//! the end-to-end test reads it, so the test reads a real Jaeger the same way.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Every answer of the query API: `data` plus paging and errors.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope<T> {
    /// The answer itself.
    pub data: T,
    /// Always 0 in Jaeger's answers for traces; the count of services otherwise.
    #[serde(default)]
    pub total: usize,
    /// Echo of the request's limit (0 when not applied).
    #[serde(default)]
    pub limit: usize,
    /// Echo of the request's offset.
    #[serde(default)]
    pub offset: usize,
    /// Errors, or null.
    #[serde(default)]
    pub errors: Option<Vec<ApiError>>,
}

/// One error in an [`Envelope`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiError {
    /// HTTP-like status code.
    pub code: u16,
    /// What went wrong.
    pub msg: String,
}

/// One trace with all of its spans.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Trace {
    /// Hex trace id.
    #[serde(rename = "traceID")]
    pub trace_id: String,
    /// Every span of the trace.
    pub spans: Vec<Span>,
    /// The processes (services) the spans name by `processID`.
    pub processes: BTreeMap<String, Process>,
    /// Problems Jaeger found with the trace (e.g. a parent it never received).
    #[serde(default)]
    pub warnings: Option<Vec<String>>,
}

/// One span.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Span {
    /// Hex trace id.
    #[serde(rename = "traceID")]
    pub trace_id: String,
    /// Hex span id.
    #[serde(rename = "spanID")]
    pub span_id: String,
    /// The span's name.
    #[serde(rename = "operationName")]
    pub operation_name: String,
    /// Links to the parent (`CHILD_OF`) and others.
    #[serde(default)]
    pub references: Vec<Reference>,
    /// Start, in microseconds since the Unix epoch.
    #[serde(rename = "startTime")]
    pub start_time: u64,
    /// Duration in microseconds.
    pub duration: u64,
    /// Attributes.
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// Span events; the stand-in keeps none.
    #[serde(default)]
    pub logs: Vec<serde_json::Value>,
    /// Key into the trace's `processes`.
    #[serde(rename = "processID")]
    pub process_id: String,
    /// Problems Jaeger found with the span.
    #[serde(default)]
    pub warnings: Option<Vec<String>>,
}

/// A span's link to another span.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reference {
    /// `CHILD_OF` for the parent, `FOLLOWS_FROM` for other links.
    #[serde(rename = "refType")]
    pub ref_type: String,
    /// The other span's trace.
    #[serde(rename = "traceID")]
    pub trace_id: String,
    /// The other span.
    #[serde(rename = "spanID")]
    pub span_id: String,
}

/// One attribute.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tag {
    /// Attribute name.
    pub key: String,
    /// `string`, `bool`, `int64`, `float64` or `binary`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The value, typed as `kind` says.
    pub value: serde_json::Value,
}

/// The service that produced spans.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Process {
    /// `service.name`.
    #[serde(rename = "serviceName")]
    pub service_name: String,
    /// Resource attributes.
    #[serde(default)]
    pub tags: Vec<Tag>,
}

impl Trace {
    /// The name of the service that produced `span`.
    pub fn service_of(&self, span: &Span) -> Option<&str> {
        self.processes
            .get(&span.process_id)
            .map(|p| p.service_name.as_str())
    }

    /// The first span named `operation`.
    pub fn span_named(&self, operation: &str) -> Option<&Span> {
        self.spans.iter().find(|s| s.operation_name == operation)
    }

    /// The span with id `span_id`.
    pub fn span(&self, span_id: &str) -> Option<&Span> {
        self.spans.iter().find(|s| s.span_id == span_id)
    }
}

impl Span {
    /// The parent's span id, from the `CHILD_OF` reference.
    pub fn parent_span_id(&self) -> Option<&str> {
        self.references
            .iter()
            .find(|r| r.ref_type == "CHILD_OF")
            .map(|r| r.span_id.as_str())
    }

    /// The value of the tag `key`.
    pub fn tag(&self, key: &str) -> Option<&serde_json::Value> {
        self.tags.iter().find(|t| t.key == key).map(|t| &t.value)
    }
}

impl Tag {
    /// A tag typed after its JSON value, as Jaeger types OTLP attributes.
    pub fn from_json(key: &str, value: &serde_json::Value) -> Self {
        let kind = match value {
            serde_json::Value::Bool(_) => "bool",
            serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => "int64",
            serde_json::Value::Number(_) => "float64",
            _ => "string",
        };
        let value = match value {
            serde_json::Value::Bool(_) | serde_json::Value::Number(_) => value.clone(),
            serde_json::Value::String(s) => serde_json::Value::from(s.as_str()),
            other => serde_json::Value::from(other.to_string()),
        };
        Self {
            key: key.to_owned(),
            kind: kind.to_owned(),
            value,
        }
    }
}
