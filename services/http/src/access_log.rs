//! One structured log line per request, inside the request's trace.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

/// Paths that health probes ask every few seconds: a success there is logged
/// at DEBUG, so probes do not bury the requests people make.
const PROBE_PATHS: [&str; 2] = ["/healthz", "/readyz"];

/// Middleware: logs method, route, status and duration when a response is ready.
pub async fn log_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.path().to_owned();
    let peer = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    let res = next.call(req).await?;
    let status = res.status().as_u16();
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    if res.status().is_server_error() {
        tracing::error!(http.request.method = %method, url.path = %path, http.response.status_code = status, client.address = %peer, elapsed_ms, "request failed");
    } else if res.status().is_success() && PROBE_PATHS.contains(&path.as_str()) {
        tracing::debug!(http.request.method = %method, url.path = %path, http.response.status_code = status, client.address = %peer, elapsed_ms, "request served");
    } else {
        tracing::info!(http.request.method = %method, url.path = %path, http.response.status_code = status, client.address = %peer, elapsed_ms, "request served");
    }
    Ok(res)
}
