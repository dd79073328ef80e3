//! The one way an Inlet service builds its actix-web server.

use std::future::Future;
use std::net::TcpListener;
use std::sync::Arc;

use actix_http::error::DispatchError;
use actix_http::{HttpService, KeepAlive, Protocol};
use actix_service::{fn_service, map_config, IntoServiceFactory, ServiceFactoryExt};
use actix_web::dev::{AppConfig, Server};
use actix_web::middleware::from_fn;
use actix_web::rt::net::TcpStream;
use actix_web::{web, App};
use inlet_common::access::AccessSettings;
use inlet_common::metrics::Metrics;
use inlet_common::readiness::Readiness;

use crate::access::{guard_operations, Access, OperationsNeedCredential};
use crate::access_log::log_requests;
use crate::allowed_hosts::{check_host, AllowedHosts};
use crate::body::BodyTimeout;
use crate::client_address::TrustedProxies;
use crate::early_close::close_on_unread_body;
use crate::errors::render_errors;
use crate::expect;
use crate::head_deadline::HeadDeadline;
use crate::metrics::{self, HttpMetrics};
use crate::refusals::Watched;
use crate::refused::{RefusalMetric, Refusals};
use crate::request_span::trace_requests;
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
    /// A request that asks `Expect: 100-continue` with a longer declared body
    /// is answered 413 instead of 100.
    pub max_declared_body: expect::DeclaredCaps,
    /// The `[access]` settings: who may read what was stored (see
    /// [`crate::access`]).
    pub access: &'a AccessSettings,
    /// A listener that serves only `/healthz`, `/readyz` and `/metrics`, to
    /// anyone (`INLET_ADMIN_LISTEN`: loopback or the compose network, never
    /// published). With one, those paths on the main listener need the read
    /// credential.
    pub admin: Option<TcpListener>,
    /// Whether `/healthz`, `/readyz` and `/metrics` on the main listener
    /// need the read credential (false only where the main listener is
    /// itself an admin listener, as smtp's).
    pub operations_need_credential: bool,
    /// The service's refusal counter, for routes wrapped in
    /// [`crate::refused::count_refusals`]; `None` if no route takes things in.
    pub refusals: Option<RefusalMetric>,
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
/// stylesheet are served for the service; any path no route serves is 404.
/// The returned server is not yet polled; signals are left to the caller.
/// Logs one "listening" line with the bound port, which test kits and
/// operators read.
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
        max_declared_body,
        access,
        admin,
        operations_need_credential,
        refusals,
    } = service;
    for key in settings.deprecated_keys() {
        tracing::warn!(
            key,
            "deprecated config key: use its _ms twin (milliseconds)"
        );
    }
    let local_addr = listener.local_addr()?;
    let body_timeout = BodyTimeout {
        total: settings.body_timeout(),
        idle: settings.body_idle_timeout(),
    };
    let http_metrics = HttpMetrics::register(&metrics);
    let refusals = refusals.map(|metric| Refusals::register(&metrics, metric));
    let allowed_hosts = AllowedHosts::new(&settings.allowed_hosts);
    let trusted_proxies = TrustedProxies::new(settings.trusted_proxies.clone());
    let access = Access::new(access, &metrics);
    let (admin_readiness, admin_metrics) = (Arc::clone(&readiness), Arc::clone(&metrics));
    let app = move || {
        let app = match &refusals {
            Some(refusals) => App::new().app_data(refusals.clone()),
            None => App::new(),
        };
        app.app_data(body_timeout)
            .app_data(http_metrics.clone())
            .app_data(allowed_hosts.clone())
            .app_data(trusted_proxies.clone())
            .app_data(access.clone())
            .app_data(OperationsNeedCredential(operations_need_credential))
            .wrap(from_fn(guard_operations))
            .wrap(from_fn(check_host))
            .wrap(from_fn(render_errors))
            .wrap(from_fn(close_on_unread_body))
            .wrap(from_fn(log_requests))
            .wrap(from_fn(record))
            .wrap(from_fn(trace_requests))
            .configure(health::configure(Arc::clone(&readiness)))
            .configure(metrics::configure(Arc::clone(&metrics)))
            .configure(page::configure_assets)
            .configure(configure.clone())
            .default_service(web::to(not_found))
    };
    // Built from actix's parts rather than with HttpServer, which offers no
    // way to answer `Expect: 100-continue` (see crate::expect); the settings
    // map one to one onto what HttpServer would set.
    let mut builder = actix_server::Server::build();
    let draining = builder.graceful_shutdown_signal();
    let (keep_alive, head_timeout, disconnect_timeout) = (
        KeepAlive::Timeout(settings.keep_alive()),
        settings.request_head_timeout(),
        settings.client_disconnect_timeout(),
    );
    let admin_addr = match admin {
        Some(admin) => {
            let addr = admin.local_addr()?;
            let admin_app = move || {
                App::new()
                    .configure(health::configure(Arc::clone(&admin_readiness)))
                    .configure(metrics::configure(Arc::clone(&admin_metrics)))
                    .default_service(web::to(not_found))
            };
            builder = builder.listen(format!("{name}-admin"), admin, move || {
                HttpService::build()
                    .keep_alive(keep_alive)
                    .client_request_timeout(head_timeout)
                    .client_disconnect_timeout(disconnect_timeout)
                    .finish(map_config(
                        admin_app()
                            .into_factory()
                            .map_err(|err: actix_web::Error| err.error_response()),
                        |_| AppConfig::default(),
                    ))
                    .tcp()
            })?;
            Some(addr)
        }
        None => None,
    };
    let server = builder
        .workers(settings.worker_count())
        .max_concurrent_connections(settings.max_connections_per_worker)
        // actix counts whole seconds; round up so the deadline is never shorter.
        .shutdown_timeout(settings.shutdown_timeout().as_millis().div_ceil(1000) as u64)
        .disable_signals()
        .listen(format!("{name}-http"), listener, move || {
            let draining = draining.clone();
            let app = app()
                .into_factory()
                .map_err(|err: actix_web::Error| err.error_response());
            let http = HttpService::build()
                // Tells kept-alive connections to finish once a graceful stop begins.
                .graceful_shutdown_signal(move || {
                    let draining = draining.clone();
                    async move { draining.notified().await }
                })
                .keep_alive(keep_alive)
                .client_request_timeout(head_timeout)
                .client_disconnect_timeout(disconnect_timeout)
                .local_addr(local_addr)
                .expect(fn_service(move |req| {
                    expect::continue_unless_too_large(req, max_declared_body)
                }))
                .finish(map_config(app, |_| AppConfig::default()));
            // As actix's own `.tcp()`, but with the socket watched for the
            // answers actix makes by itself (see crate::refusals).
            // And every request head after the first one held to the head
            // deadline (see crate::head_deadline).
            fn_service(move |io: TcpStream| async move {
                let peer = io.peer_addr().ok();
                let io = HeadDeadline::new(Watched::new(io, peer), head_timeout, peer);
                Ok::<_, DispatchError>((io, Protocol::Http1, peer))
            })
            .and_then(http)
        })?
        .run();
    tracing::info!(service = name, addr = %local_addr, port = local_addr.port(), "{name} listening");
    if let Some(addr) = admin_addr {
        tracing::info!(service = name, addr = %addr, port = addr.port(), "{name} admin (health, metrics) listening");
    }
    Ok(server)
}

/// A `configure` for [`serve`]: `state` as app data, then `routes`.
pub fn with_state<T: Send + Sync + 'static>(
    state: web::Data<T>,
    routes: fn(&mut web::ServiceConfig),
) -> impl Fn(&mut web::ServiceConfig) + Clone + Send + 'static {
    move |cfg| {
        cfg.app_data(state.clone());
        routes(cfg);
    }
}

/// Marks the service ready and serves until `shutdown` resolves (or the
/// server ends by itself), then stops accepting and lets in-flight requests
/// finish, up to the shutdown deadline.
pub async fn run_until_stopped(
    server: Server,
    readiness: &Readiness,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let handle = server.handle();
    readiness.mark_listening();
    let mut served = tokio::spawn(server);
    let ended = tokio::select! {
        () = shutdown => None,
        ended = &mut served => Some(ended),
    };
    match ended {
        Some(ended) => {
            tracing::warn!("the HTTP server stopped by itself");
            ended.map_err(std::io::Error::other)?
        }
        None => {
            tracing::info!("stopping: no new connections, finishing in-flight requests");
            handle.stop(true).await;
            served.await.map_err(std::io::Error::other)?
        }
    }
}
