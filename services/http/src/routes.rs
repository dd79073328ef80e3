//! Route helpers: GET-or-HEAD, 405 with `Allow`, the 404 fallback.

use actix_web::http::header;
use actix_web::{guard, web, HttpResponse, Route};

/// A route that serves GET and HEAD (HEAD answers carry no body).
pub fn get_or_head() -> Route {
    web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
}

/// A fallback for a resource: 405 with the `Allow` header listing what it serves.
pub fn method_not_allowed(allow: &'static str) -> Route {
    web::route().to(move || async move {
        HttpResponse::MethodNotAllowed()
            .insert_header((header::ALLOW, allow))
            .finish()
    })
}

/// The app-wide fallback: 404 for any path no resource serves.
pub async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().finish()
}
