//! What every inbox answer carries: errors as pages for browsers (and a
//! sign-in for a reader with no session), the security headers, and the
//! inbox's own script and stylesheet.

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::HttpResponse;
use inlet_http::access::Access;
use inlet_http::errors::{ErrorReply, OwnBody};

use crate::views;

/// The inbox's script, written by hand (no build step).
const SCRIPT: &str = include_str!("../../assets/inbox.js");

/// The inbox's additions to the shared stylesheet.
const STYLESHEET: &str = include_str!("../../assets/inbox.css");

/// What the inbox's pages may load: their own script, styles, images and
/// frames, nothing else, and no other site may frame them.
const PAGE_POLICY: &str = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// `GET /assets/inbox.js`.
pub async fn script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(SCRIPT)
}

/// `GET /assets/inbox.css`.
pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(STYLESHEET)
}

/// Middleware: every answer says what its page may load and that it must
/// not be sniffed or framed elsewhere (an answer with its own policy, such
/// as a mail's HTML, keeps it).
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGE_POLICY),
        );
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-cache"),
        );
    }
    Ok(res)
}

/// Middleware: an error answer to a browser's page request becomes a page
/// saying what went wrong; a page asked for without a session goes to the
/// sign-in page instead (and comes back after).
pub async fn html_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<BoxBody>>, actix_web::Error> {
    let wants_page = req.method() == Method::GET
        && req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
        || req.method() == Method::POST
            && req.headers().get(header::CONTENT_TYPE).is_some_and(|v| {
                v.as_bytes()
                    .starts_with(b"application/x-www-form-urlencoded")
            });
    let target = req
        .uri()
        .path_and_query()
        .map_or("/".to_owned(), |p| p.as_str().to_owned());
    let res = next.call(req).await?.map_into_boxed_body();
    let status = res.status();
    if !wants_page
        || !(status.is_client_error() || status.is_server_error())
        || res.response().extensions().contains::<OwnBody>()
    {
        return Ok(res.map_into_left_body());
    }
    let reply = res.response().extensions().get::<ErrorReply>().cloned();
    let (req, _) = res.into_parts();
    if status == StatusCode::UNAUTHORIZED && req.method() == Method::GET {
        let next: String = form_urlencoded::byte_serialize(target.as_bytes()).collect();
        let redirect = HttpResponse::SeeOther()
            .insert_header((header::LOCATION, format!("/sign-in?next={next}")))
            .finish();
        return Ok(ServiceResponse::new(req, redirect).map_into_right_body());
    }
    let message = reply.map_or_else(
        || {
            status
                .canonical_reason()
                .unwrap_or("Request failed")
                .to_owned()
        },
        |reply| reply.message,
    );
    let csrf = req
        .app_data::<Access>()
        .and_then(|access| access.csrf_token(&req));
    let mut page = HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(views::forms::error(status.as_u16(), &message, csrf.as_deref()).into_string());
    page.extensions_mut().insert(OwnBody);
    Ok(ServiceResponse::new(req, page).map_into_right_body())
}
