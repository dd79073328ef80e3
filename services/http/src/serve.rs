//! The one way an Inlet service builds its actix-web server.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::http::KeepAlive;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use inlet_common::metrics::Metrics;
use inlet_common::readiness::Readiness;
use opentelemetry_instrumentation_actix_web::RequestTracing;

use crate::access_log::log_requests;
use crate::body::BodyTimeout;
use crate::early_close::close_on_unread_body;
use crate::errors::render_errors;
use crate::metrics::{self, HttpMetrics};
use crate::routes::not_found;
use crate::settings::HttpSettings;
use crate::{health, metrics::record, page};

/// What a service hands to [`serve`] besides its routes.
pub struct Service<'a> {
    /// The binary's name, for the "listening" line.
    pub name: &'a str,
    /// The `[http]` settings.
    pub settings: &'a HttpSettings,
    /// What `/readyz` reports.
    pub readiness: Arc<Readiness>,
    /// The service's registry: `/metrics` shows it, and HTTP metrics go into it.
    pub metrics: Arc<Metrics>,
}

/// Builds the server for `listener`: `configure` adds the service's routes and
/// app data; everything around them is the same for every service.
///
/// Middleware, outermost first: the request span (so log lines carry its
/// trace id), request metrics, the access log, closing instead of draining
/// when an answer leaves the body unread (see [`crate::early_close`]), then
/// error rendering (every error body in the client's format). Every
/// handler's body reads are bound by `http.body_timeout_ms` (see
/// [`crate::body`]). `/healthz`, `/readyz`, `/metrics` and the shared
/// stylesheet are served for the service; any path no route serves is 404. The returned server is not yet
/// polled; signals are left to the caller. Logs one "listening" line with the
/// bound port, which test kits and operators read.
pub fn serve<F>(
    service: Service<'_>,
    listener: TcpListener,
    configure: F,
) -> std::io::Result<Server>
where
    F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
{
    let Service {
        name,
        settings,
        readiness,
        metrics,
    } = service;
    for key in settings.deprecated_keys() {
        tracing::warn!(
            key,
            "deprecated config key: use its _ms twin (milliseconds)"
        );
    }
    let local_addr = listener.local_addr()?;
    let body_timeout = BodyTimeout(settings.body_timeout());
    let http_metrics = HttpMetrics::register(&metrics);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(body_timeout)
            .app_data(http_metrics.clone())
            .wrap(from_fn(render_errors))
            .wrap(from_fn(close_on_unread_body))
            .wrap(from_fn(log_requests))
            .wrap(from_fn(record))
            .wrap(RequestTracing::new())
            .configure(health::configure(Arc::clone(&readiness)))
            .configure(metrics::configure(Arc::clone(&metrics)))
            .configure(page::configure_assets)
            .configure(configure.clone())
            .default_service(web::to(not_found))
    })
    .workers(settings.worker_count())
    .max_connections(settings.max_connections_per_worker)
    .client_request_timeout(settings.request_head_timeout())
    .client_disconnect_timeout(settings.client_disconnect_timeout())
    .keep_alive(KeepAlive::Timeout(settings.keep_alive()))
    // actix counts whole seconds; round up so the deadline is never shorter.
    .shutdown_timeout(settings.shutdown_timeout().as_millis().div_ceil(1000) as u64)
    .disable_signals()
    .listen(listener)?
    .run();
    tracing::info!(service = name, addr = %local_addr, port = local_addr.port(), "{name} listening");
    Ok(server)
}
