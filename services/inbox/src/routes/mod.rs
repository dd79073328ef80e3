//! The inbox's routes, and what every answer of it carries.
//!
//! # Layout
//! - `list`: `GET /`, the list and its search.
//! - `live`: `GET /live`, new rows for an open list.
//! - `item`: an item's page and what it links to.
//! - `delete`: confirming and deleting.
//! - `session`: signing in and out.
//! - `reader`: who is asking, and the anti-forgery check.
//! - `pages`: the error pages and the headers of every answer.

mod delete;
mod item;
mod list;
mod live;
mod pages;
mod reader;
mod session;

use actix_web::middleware::from_fn;
use actix_web::web;
use inlet_http::routes::{get_or_head, method_not_allowed};

/// Adds every inbox route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::PayloadConfig::new(delete::MAX_BODY_BYTES))
        .app_data(web::FormConfig::default().limit(16 * 1024));
    cfg.service(
        web::scope("")
            .wrap(from_fn(pages::html_errors))
            .wrap(from_fn(pages::security_headers))
            .service(
                web::resource("/")
                    .route(get_or_head().to(list::page))
                    .default_service(method_not_allowed("GET, HEAD")),
            )
            .service(
                web::resource("/live")
                    .route(web::get().to(live::stream))
                    .default_service(method_not_allowed("GET")),
            )
            .service(
                web::resource("/sign-in")
                    .route(get_or_head().to(session::page))
                    .route(web::post().to(session::sign_in))
                    .default_service(method_not_allowed("GET, HEAD, POST")),
            )
            .service(
                web::resource("/sign-out")
                    .route(web::post().to(session::sign_out))
                    .default_service(method_not_allowed("POST")),
            )
            .service(
                web::resource("/delete")
                    .route(get_or_head().to(delete::confirm))
                    .route(web::post().to(delete::delete))
                    .default_service(method_not_allowed("GET, HEAD, POST")),
            )
            .service(
                web::resource("/items/file/{id}/download").route(get_or_head().to(item::download)),
            )
            .service(
                web::resource("/items/file/{id}/preview").route(get_or_head().to(item::preview)),
            )
            .service(
                web::resource("/items/mail/{id}/html").route(get_or_head().to(item::mail_html)),
            )
            .service(web::resource("/items/mail/{id}/raw").route(get_or_head().to(item::raw)))
            .service(
                web::resource("/items/mail/{id}/attachments/{index}")
                    .route(get_or_head().to(item::attachment)),
            )
            .service(
                web::resource("/items/{kind}/{id}")
                    .route(get_or_head().to(item::page))
                    .default_service(method_not_allowed("GET, HEAD")),
            )
            .service(web::resource("/assets/inbox.js").route(get_or_head().to(pages::script)))
            .service(web::resource("/assets/inbox.css").route(get_or_head().to(pages::stylesheet))),
    );
}
