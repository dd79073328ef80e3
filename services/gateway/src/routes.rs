//! The route table: the page (or the seed's socket) at `/`, `/echo`, `/events`.

use std::sync::OnceLock;

use actix_web::middleware::from_fn;
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use inlet_http::access::require_read;
use inlet_http::page::{html, Site};
use inlet_http::refused::count_refusals;
use inlet_http::routes::{get_or_head, method_not_allowed};

use crate::error::GatewayError;
use crate::state::AppState;
use crate::ws::{self, events::EventsQuery};

/// The gateway's page and nav.
const SITE: Site = Site {
    name: "Inlet gateway",
    nav: &[("/", "Socket and live events")],
};

static PAGE: OnceLock<Bytes> = OnceLock::new();

/// Registers every gateway route; other methods on a known path get 405 with `Allow`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/")
            .wrap(from_fn(count_refusals))
            .route(get_or_head().to(root))
            .default_service(method_not_allowed("GET, HEAD")),
    )
    .service(
        web::resource("/echo")
            .wrap(from_fn(count_refusals))
            .route(web::get().to(echo))
            .default_service(method_not_allowed("GET")),
    )
    .service(
        web::resource("/events")
            .wrap(from_fn(count_refusals))
            .wrap(from_fn(require_read))
            .route(web::get().to(events))
            .default_service(method_not_allowed("GET")),
    )
    .configure(inlet_http::access::session::configure);
}

/// `GET /`: the page, or with an Upgrade the seed's socket.
async fn root(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, GatewayError> {
    if !ws::wants_upgrade(&req) {
        return Ok(page());
    }
    ws::open(&req, body, &state, "chat", ws::chat::serve)
}

/// `GET /echo`: a socket that sends every message back.
async fn echo(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, GatewayError> {
    ws::open(&req, body, &state, "echo", ws::echo::serve)
}

/// `GET /events`: the live event feed.
async fn events(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, GatewayError> {
    let wanted = web::Query::<EventsQuery>::from_query(req.query_string())
        .map_err(|e| GatewayError::BadQuery(e.to_string()))?
        .into_inner()
        .parse()?;
    let feed = state.feed.clone();
    let metrics = state.metrics.clone();
    let subscription = feed
        .subscribe(wanted.topics, wanted.since.as_ref())
        .await
        .map_err(|e| GatewayError::FeedUnavailable(e.to_string()))?;
    ws::open(&req, body, &state, "events", move |opened| async move {
        ws::events::serve(opened, wanted.topics, subscription, metrics).await
    })
}

fn page() -> HttpResponse {
    html(
        PAGE.get_or_init(|| {
            SITE.render(
                "/",
                "Socket and live events",
                include_str!("../pages/index.html"),
            )
            .into()
        })
        .clone(),
    )
}
