//! The route table.

mod pages;
mod put;

use actix_web::web;
use inlet_http::routes::{get_or_head, method_not_allowed};

/// Registers every uploads route; other methods on a known path get 405 with `Allow`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/")
            .route(web::put().to(put::put))
            .default_service(method_not_allowed("PUT")),
    )
    .service(
        web::resource("/put")
            .route(get_or_head().to(pages::put_page))
            .default_service(method_not_allowed("GET, HEAD")),
    );
}
