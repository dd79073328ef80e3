//! A stand-in for Jaeger where no Jaeger image can be had: OTLP in (gRPC and
//! HTTP/protobuf, through the test kit's receiver) and the part of Jaeger's
//! query API the end-to-end test reads, in Jaeger's JSON shape.
//!
//! It keeps every span in memory for as long as it runs: it is a test tool.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;

use actix_web::{web, App, HttpResponse, HttpServer};
use inlet_testkit::otlp::{OtlpReceiver, ReceivedSpan};
use serde::Deserialize;

use crate::jaeger_api::{ApiError, Envelope, Process, Reference, Span, Tag, Trace};

/// How many traces `/api/traces` returns when the request names no limit.
const DEFAULT_TRACE_LIMIT: usize = 20;

/// Where the stand-in listens.
#[derive(Debug, Clone, Copy)]
pub struct Addresses {
    /// OTLP over gRPC (Jaeger: 4317).
    pub otlp_grpc: SocketAddr,
    /// OTLP over HTTP/protobuf (Jaeger: 4318).
    pub otlp_http: SocketAddr,
    /// The query API (Jaeger: 16686).
    pub query: SocketAddr,
}

/// A running stand-in.
pub struct Standin {
    /// Receives the spans; the query API reads them from here.
    receiver: Arc<OtlpReceiver>,
    /// The bound query address (its port is known even when 0 was asked for).
    query_addr: SocketAddr,
    /// The query server, polled by [`Standin::run`].
    server: actix_web::dev::Server,
}

impl Standin {
    /// Binds every listener and starts receiving; the query API answers once
    /// [`Standin::run`] (or the returned server) is polled.
    pub async fn start(addresses: Addresses) -> std::io::Result<Self> {
        let receiver =
            Arc::new(OtlpReceiver::start_on(addresses.otlp_grpc, addresses.otlp_http).await?);
        let listener = std::net::TcpListener::bind(addresses.query)?;
        let query_addr = listener.local_addr()?;
        let state = web::Data::from(Arc::clone(&receiver));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .route("/api/services", web::get().to(services))
                .route("/api/traces", web::get().to(find_traces))
                .route("/api/traces/{trace_id}", web::get().to(get_trace))
                .route("/readyz", web::get().to(ready))
        })
        .workers(1)
        .listen(listener)?
        .run();
        Ok(Self {
            receiver,
            query_addr,
            server,
        })
    }

    /// `http://ADDR` of the query API.
    pub fn query_url(&self) -> String {
        format!("http://{}", self.query_addr)
    }

    /// The OTLP receiver, for its endpoints.
    pub fn receiver(&self) -> &OtlpReceiver {
        &self.receiver
    }

    /// Serves until SIGTERM/SIGINT.
    pub async fn run(self) -> std::io::Result<()> {
        let Standin {
            receiver, server, ..
        } = self;
        let outcome = server.await;
        drop(receiver);
        outcome
    }
}

async fn ready() -> HttpResponse {
    HttpResponse::Ok().finish()
}

async fn services(receiver: web::Data<OtlpReceiver>) -> HttpResponse {
    let names: BTreeSet<String> = receiver
        .spans()
        .into_iter()
        .map(|s| s.service_name)
        .collect();
    let total = names.len();
    HttpResponse::Ok().json(Envelope {
        data: names.into_iter().collect::<Vec<_>>(),
        total,
        limit: 0,
        offset: 0,
        errors: None,
    })
}

/// The query parameters of `/api/traces` that the stand-in honours.
#[derive(Debug, Deserialize)]
struct TraceQuery {
    service: Option<String>,
    operation: Option<String>,
    limit: Option<usize>,
}

async fn find_traces(
    receiver: web::Data<OtlpReceiver>,
    query: web::Query<TraceQuery>,
) -> HttpResponse {
    let Some(service) = query.service.as_deref().filter(|s| !s.is_empty()) else {
        return error(400, "parameter 'service' is required");
    };
    let limit = query
        .limit
        .filter(|l| *l > 0)
        .unwrap_or(DEFAULT_TRACE_LIMIT);
    let mut traces: Vec<Trace> = group_into_traces(receiver.spans())
        .into_iter()
        .filter(|trace| {
            trace.spans.iter().any(|span| {
                trace.service_of(span) == Some(service)
                    && query
                        .operation
                        .as_deref()
                        .is_none_or(|op| span.operation_name == op)
            })
        })
        .collect();
    // Newest first, as Jaeger lists them.
    traces.sort_by_key(|t| std::cmp::Reverse(t.spans.iter().map(|s| s.start_time).min()));
    traces.truncate(limit);
    HttpResponse::Ok().json(Envelope {
        data: traces,
        total: 0,
        limit: 0,
        offset: 0,
        errors: None,
    })
}

async fn get_trace(receiver: web::Data<OtlpReceiver>, path: web::Path<String>) -> HttpResponse {
    let wanted = path.into_inner().to_ascii_lowercase();
    let spans: Vec<ReceivedSpan> = receiver
        .spans()
        .into_iter()
        .filter(|s| s.trace_id == wanted)
        .collect();
    match group_into_traces(spans).pop() {
        Some(trace) => HttpResponse::Ok().json(Envelope {
            data: vec![trace],
            total: 0,
            limit: 0,
            offset: 0,
            errors: None,
        }),
        None => error(404, "trace not found"),
    }
}

fn error(code: u16, msg: &str) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(code)
        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status).json(Envelope::<Option<()>> {
        data: None,
        total: 0,
        limit: 0,
        offset: 0,
        errors: Some(vec![ApiError {
            code,
            msg: msg.to_owned(),
        }]),
    })
}

/// Groups received spans into Jaeger traces, one process per service.
pub fn group_into_traces(spans: Vec<ReceivedSpan>) -> Vec<Trace> {
    let mut by_trace: BTreeMap<String, Vec<ReceivedSpan>> = BTreeMap::new();
    for span in spans {
        by_trace
            .entry(span.trace_id.clone())
            .or_default()
            .push(span);
    }
    by_trace
        .into_iter()
        .map(|(trace_id, spans)| {
            let mut processes = BTreeMap::new();
            let mut process_ids: BTreeMap<String, String> = BTreeMap::new();
            for span in &spans {
                if !process_ids.contains_key(&span.service_name) {
                    let id = format!("p{}", process_ids.len() + 1);
                    processes.insert(
                        id.clone(),
                        Process {
                            service_name: span.service_name.clone(),
                            tags: Vec::new(),
                        },
                    );
                    process_ids.insert(span.service_name.clone(), id);
                }
            }
            let spans = spans
                .into_iter()
                .map(|span| {
                    let process_id = process_ids[&span.service_name].clone();
                    to_jaeger_span(span, process_id)
                })
                .collect();
            Trace {
                trace_id,
                spans,
                processes,
                warnings: None,
            }
        })
        .collect()
}

fn to_jaeger_span(span: ReceivedSpan, process_id: String) -> Span {
    let references = if span.parent_span_id.is_empty() {
        Vec::new()
    } else {
        vec![Reference {
            ref_type: "CHILD_OF".into(),
            trace_id: span.trace_id.clone(),
            span_id: span.parent_span_id.clone(),
        }]
    };
    let mut tags: Vec<Tag> = span
        .attributes
        .iter()
        .map(|(key, value)| Tag::from_json(key, value))
        .collect();
    tags.sort_by(|a, b| a.key.cmp(&b.key));
    if let Some(kind) = span_kind(span.kind) {
        tags.push(Tag::from_json("span.kind", &kind.into()));
    }
    Span {
        trace_id: span.trace_id,
        span_id: span.span_id,
        operation_name: span.name,
        references,
        start_time: span.start_unix_nanos / 1000,
        duration: span.end_unix_nanos.saturating_sub(span.start_unix_nanos) / 1000,
        tags,
        logs: Vec::new(),
        process_id,
        warnings: None,
    }
}

/// Jaeger's `span.kind` tag for an OTLP span kind (unspecified has none).
fn span_kind(kind: i32) -> Option<&'static str> {
    match kind {
        1 => Some("internal"),
        2 => Some("server"),
        3 => Some("client"),
        4 => Some("producer"),
        5 => Some("consumer"),
        _ => None,
    }
}
