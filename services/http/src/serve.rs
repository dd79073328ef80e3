//! The one way an Inlet service builds its actix-web server.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::http::KeepAlive;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use inlet_common::readiness::Readiness;
use opentelemetry_instrumentation_actix_web::RequestTracing;

use crate::access_log::log_requests;
use crate::body::BodyTimeout;
use crate::early_close::close_on_unread_body;
use crate::errors::render_errors;
use crate::health;
use crate::routes::not_found;
use crate::settings::HttpSettings;

/// Builds the server for `listener`: `configure` adds the service's routes and
/// app data; everything around them is the same for every service.
///
/// Middleware, outermost first: error rendering (so even a failing layer
/// answers in the client's format), closing instead of draining when an
/// answer leaves the body unread (see [`crate::early_close`]), the access
/// log, then the request span
/// (so log lines carry its trace id). Every handler's body reads are bound
/// by `http.body_timeout_ms` (see [`crate::body`]). `/healthz` and `/readyz` come from
/// `readiness`; any path no route serves is 404. The returned server is not
/// yet polled; signals are left to the caller. Logs one "listening" line with
/// the bound port, which test kits and operators read.
pub fn serve<F>(
    name: &str,
    settings: &HttpSettings,
    listener: TcpListener,
    readiness: Arc<Readiness>,
    configure: F,
) -> std::io::Result<Server>
where
    F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
{
    let local_addr = listener.local_addr()?;
    let body_timeout = BodyTimeout(settings.body_timeout());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(body_timeout)
            .wrap(from_fn(render_errors))
            .wrap(from_fn(close_on_unread_body))
            .wrap(from_fn(log_requests))
            .wrap(RequestTracing::new())
            .configure(health::configure(Arc::clone(&readiness)))
            .configure(configure.clone())
            .default_service(web::to(not_found))
    })
    .workers(settings.worker_count())
    .max_connections(settings.max_connections_per_worker)
    .client_request_timeout(settings.request_head_timeout())
    .client_disconnect_timeout(settings.client_disconnect_timeout())
    .keep_alive(KeepAlive::Timeout(settings.keep_alive()))
    .shutdown_timeout(settings.shutdown_timeout_secs)
    .disable_signals()
    .listen(listener)?
    .run();
    tracing::info!(service = name, addr = %local_addr, port = local_addr.port(), "{name} listening");
    Ok(server)
}
