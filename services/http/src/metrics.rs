//! HTTP server metrics, named after OpenTelemetry's HTTP semantic conventions,
//! and the `GET /metrics` route that exposes the service's registry.

use std::sync::Arc;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};
use inlet_common::metrics::{Metrics, CONTENT_TYPE};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};

use crate::routes::{get_or_head, method_not_allowed};

/// The labels of one request's duration.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// `GET`, `POST`, …; `_OTHER` for a method outside HTTP's own.
    pub http_request_method: &'static str,
    /// The route pattern (`/submissions`), never the raw path; `unmatched` for 404s.
    pub http_route: String,
    /// The answer's status.
    pub http_response_status_code: u16,
}

/// The HTTP server's own metrics.
#[derive(Debug, Clone)]
pub struct HttpMetrics {
    /// `http_server_request_duration_seconds`, by method, route and status.
    duration: Family<RequestLabels, Histogram>,
    /// `http_server_active_requests`: requests being handled now.
    active: Gauge,
}

impl HttpMetrics {
    /// Creates the HTTP metrics and registers them in `metrics`.
    pub fn register(metrics: &Metrics) -> Self {
        let duration = Family::<RequestLabels, Histogram>::new_with_constructor(|| {
            // 0.5 ms to about 16 s.
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        let active = Gauge::default();
        metrics.register(
            "http_server_request_duration_seconds",
            "Time from the request head to the answer, by method, route and status",
            duration.clone(),
        );
        metrics.register(
            "http_server_active_requests",
            "Requests being handled now",
            active.clone(),
        );
        Self { duration, active }
    }
}

/// Middleware: times every request and counts those in flight.
pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let metrics = req
        .app_data::<HttpMetrics>()
        .cloned()
        .expect("inlet_http::serve registers the HTTP metrics");
    let started = Instant::now();
    metrics.active.inc();
    let method = method_label(req.method());
    let outcome = next.call(req).await;
    metrics.active.dec();
    if let Ok(res) = &outcome {
        let labels = RequestLabels {
            http_request_method: method,
            http_route: res
                .request()
                .match_pattern()
                .unwrap_or_else(|| "unmatched".into()),
            http_response_status_code: res.status().as_u16(),
        };
        metrics
            .duration
            .get_or_create(&labels)
            .observe(started.elapsed().as_secs_f64());
    }
    outcome
}

/// The method as a bounded label: anything outside HTTP's own is `_OTHER`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "_OTHER",
    }
}

/// Adds `GET /metrics`: the registry as Prometheus (OpenMetrics) text.
pub fn configure(metrics: Arc<Metrics>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.app_data(web::Data::from(metrics)).service(
            web::resource("/metrics")
                .route(get_or_head().to(scrape))
                .default_service(method_not_allowed("GET, HEAD")),
        );
    }
}

async fn scrape(metrics: web::Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, CONTENT_TYPE))
        .body(metrics.encode())
}
