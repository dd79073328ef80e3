//! The route table: which path and method reach which handler.

mod pages;
mod removal;
mod submissions;
mod submit;

use actix_web::middleware::from_fn;
use actix_web::web;
use inlet_http::access::{require_delete, require_read};
use inlet_http::refused::count_refusals;
use inlet_http::routes::{get_or_head, method_not_allowed};

/// Registers every forms route; other methods on a known path get 405 with `Allow`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/")
            .wrap(from_fn(count_refusals))
            .route(get_or_head().to(pages::index))
            .route(web::post().to(submit::submit))
            .default_service(method_not_allowed("GET, HEAD, POST")),
    )
    .service(page("/json", pages::json_form))
    .service(page("/about", pages::about))
    .service(page("/contact", pages::contact))
    .service(
        web::resource("/submissions")
            .wrap(from_fn(require_read))
            .route(get_or_head().to(submissions::list))
            .default_service(method_not_allowed("GET, HEAD")),
    )
    .service(
        web::resource("/submissions/compact")
            .wrap(from_fn(require_read))
            .route(
                web::post()
                    .to(removal::compact)
                    .wrap(from_fn(require_delete)),
            )
            .default_service(method_not_allowed("POST")),
    )
    .service(
        web::resource("/submissions/{id}")
            .wrap(from_fn(require_read))
            .route(get_or_head().to(submissions::one))
            .route(
                web::delete()
                    .to(removal::delete)
                    .wrap(from_fn(require_delete)),
            )
            .default_service(method_not_allowed("GET, HEAD, DELETE")),
    );
}

fn page<F>(path: &str, handler: F) -> actix_web::Resource
where
    F: actix_web::Handler<()>,
    F::Output: actix_web::Responder + 'static,
{
    web::resource(path)
        .route(get_or_head().to(handler))
        .default_service(method_not_allowed("GET, HEAD"))
}
