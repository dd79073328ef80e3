//! A trace collector stand-in: receives OTLP exports over gRPC (TraceService)
//! and HTTP/protobuf (`POST /v1/traces`) and keeps every span for assertions.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use prost::Message;
use tokio::sync::Notify;

/// One received span, flattened for assertions.
#[derive(Debug, Clone)]
pub struct ReceivedSpan {
    /// `service.name` of the resource that sent it.
    pub service_name: String,
    /// Span name.
    pub name: String,
    /// Hex trace id.
    pub trace_id: String,
    /// Hex span id.
    pub span_id: String,
    /// Hex parent span id; empty for a root span.
    pub parent_span_id: String,
    /// Span kind as the OTLP enum number (2 = server).
    pub kind: i32,
    /// Start, in nanoseconds since the Unix epoch.
    pub start_unix_nanos: u64,
    /// End, in nanoseconds since the Unix epoch.
    pub end_unix_nanos: u64,
    /// Attributes rendered as JSON values.
    pub attributes: HashMap<String, serde_json::Value>,
    /// The spans it links to, as hex (trace id, span id).
    pub links: Vec<(String, String)>,
}

impl ReceivedSpan {
    /// An attribute as a string, if present and a string.
    pub fn attr_str(&self, key: &str) -> Option<&str> {
        self.attributes.get(key).and_then(|v| v.as_str())
    }

    /// An attribute as an integer, if present and an integer.
    pub fn attr_i64(&self, key: &str) -> Option<i64> {
        self.attributes.get(key).and_then(|v| v.as_i64())
    }
}

#[derive(Default)]
struct Store {
    spans: Mutex<Vec<ReceivedSpan>>,
    arrived: Notify,
}

impl Store {
    fn add(&self, request: ExportTraceServiceRequest) {
        let mut spans = self.spans.lock().unwrap();
        for resource_spans in request.resource_spans {
            let resource_attrs = resource_spans
                .resource
                .map(|r| attributes(&r.attributes))
                .unwrap_or_default();
            let service_name = resource_attrs
                .get("service.name")
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned();
            for scope in resource_spans.scope_spans {
                for span in scope.spans {
                    spans.push(ReceivedSpan {
                        service_name: service_name.clone(),
                        name: span.name,
                        trace_id: hex(&span.trace_id),
                        span_id: hex(&span.span_id),
                        parent_span_id: hex(&span.parent_span_id),
                        kind: span.kind,
                        start_unix_nanos: span.start_time_unix_nano,
                        end_unix_nanos: span.end_time_unix_nano,
                        attributes: attributes(&span.attributes),
                        links: span
                            .links
                            .iter()
                            .map(|link| (hex(&link.trace_id), hex(&link.span_id)))
                            .collect(),
                    });
                }
            }
        }
        self.arrived.notify_waiters();
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn attributes(kvs: &[KeyValue]) -> HashMap<String, serde_json::Value> {
    kvs.iter()
        .map(|kv| {
            let value = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(AnyValue::StringValue(s)) => serde_json::Value::from(s.as_str()),
                Some(AnyValue::IntValue(i)) => serde_json::Value::from(*i),
                Some(AnyValue::DoubleValue(d)) => serde_json::Value::from(*d),
                Some(AnyValue::BoolValue(b)) => serde_json::Value::from(*b),
                Some(other) => serde_json::Value::from(format!("{other:?}")),
                None => serde_json::Value::Null,
            };
            (kv.key.clone(), value)
        })
        .collect()
}

struct GrpcTraces(Arc<Store>);

#[tonic::async_trait]
impl TraceService for GrpcTraces {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.0.add(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

/// A running receiver; stops when dropped.
pub struct OtlpReceiver {
    store: Arc<Store>,
    grpc_addr: SocketAddr,
    http_addr: SocketAddr,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    http_server: actix_web::dev::ServerHandle,
}

impl OtlpReceiver {
    /// Starts gRPC and HTTP listeners on free loopback ports.
    pub async fn start() -> Self {
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        Self::start_on(loopback, loopback)
            .await
            .expect("free loopback ports can be bound")
    }

    /// Starts the gRPC listener on `grpc` and the HTTP one on `http`.
    pub async fn start_on(grpc: SocketAddr, http: SocketAddr) -> std::io::Result<Self> {
        let store = Arc::new(Store::default());

        let grpc_listener = tokio::net::TcpListener::bind(grpc).await?;
        let grpc_addr = grpc_listener.local_addr()?;
        let service = TraceServiceServer::new(GrpcTraces(Arc::clone(&store)));
        let grpc = tokio::spawn(async move {
            tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming(tonic::transport::server::TcpIncoming::from(grpc_listener))
                .await
                .expect("OTLP gRPC receiver runs");
        });

        let http_listener = std::net::TcpListener::bind(http)?;
        let http_addr = http_listener.local_addr()?;
        let http_store = Arc::clone(&store);
        let server = actix_web::HttpServer::new(move || {
            let store = Arc::clone(&http_store);
            actix_web::App::new().route(
                "/v1/traces",
                actix_web::web::post().to(move |body: actix_web::web::Bytes| {
                    let store = Arc::clone(&store);
                    async move {
                        match ExportTraceServiceRequest::decode(body) {
                            Ok(request) => {
                                store.add(request);
                                let reply = ExportTraceServiceResponse {
                                    partial_success: None,
                                };
                                actix_web::HttpResponse::Ok()
                                    .content_type("application/x-protobuf")
                                    .body(reply.encode_to_vec())
                            }
                            Err(_) => actix_web::HttpResponse::BadRequest().finish(),
                        }
                    }
                }),
            )
        })
        .workers(1)
        .disable_signals()
        .listen(http_listener)?
        .run();
        let http_server = server.handle();
        let http = tokio::spawn(async move {
            let _ = server.await;
        });
        Ok(Self {
            store,
            grpc_addr,
            http_addr,
            tasks: vec![grpc, http],
            http_server,
        })
    }

    /// `http://127.0.0.1:PORT` for `OTEL_EXPORTER_OTLP_ENDPOINT` with gRPC.
    pub fn grpc_endpoint(&self) -> String {
        format!("http://{}", self.grpc_addr)
    }

    /// `http://127.0.0.1:PORT` for `OTEL_EXPORTER_OTLP_ENDPOINT` with `http/protobuf`.
    pub fn http_endpoint(&self) -> String {
        format!("http://{}", self.http_addr)
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.store.spans.lock().unwrap().clone()
    }

    /// Waits until a span matching `pred` has arrived, up to `timeout`.
    pub async fn wait_for_span(
        &self,
        timeout: Duration,
        pred: impl Fn(&ReceivedSpan) -> bool,
    ) -> Option<ReceivedSpan> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let arrived = self.store.arrived.notified();
            if let Some(span) = self.spans().into_iter().find(|s| pred(s)) {
                return Some(span);
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return None;
            }
        }
    }
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        drop(self.http_server.stop(false));
    }
}
