//! The route table.

mod files;
mod object;
mod pages;
mod post;
mod put;

use actix_web::middleware::from_fn;
use actix_web::web;
use inlet_http::access::{require_delete, require_read};
use inlet_http::refused::count_refusals;
use inlet_http::routes::{get_or_head, method_not_allowed};

/// Registers every uploads route; other methods on a known path get 405 with `Allow`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/")
            .wrap(from_fn(count_refusals))
            .route(get_or_head().to(pages::upload_page))
            .route(web::post().to(post::post))
            .route(web::put().to(put::put))
            .default_service(method_not_allowed("GET, HEAD, POST, PUT")),
    )
    .service(
        web::resource("/put")
            .route(get_or_head().to(pages::put_page))
            .default_service(method_not_allowed("GET, HEAD")),
    )
    .service(
        web::resource("/files")
            .wrap(from_fn(require_read))
            .route(get_or_head().to(files::list_files))
            .default_service(method_not_allowed("GET, HEAD")),
    )
    .service(
        web::resource("/files/{name}")
            .wrap(from_fn(require_read))
            .route(get_or_head().to(files::download))
            .route(
                web::delete()
                    .to(files::delete)
                    .wrap(from_fn(require_delete)),
            )
            .default_service(method_not_allowed("GET, HEAD, DELETE")),
    )
    .service(
        web::resource("/files/{name}/meta")
            .wrap(from_fn(require_read))
            .route(get_or_head().to(files::meta))
            .default_service(method_not_allowed("GET, HEAD")),
    );
}
