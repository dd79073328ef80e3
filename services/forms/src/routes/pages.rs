//! The HTML pages: the urlencoded form, the JSON form, about and contact.

use actix_web::HttpResponse;

const INDEX: &str = include_str!("../../pages/index.html");
const JSON_FORM: &str = include_str!("../../pages/json.html");
const ABOUT: &str = include_str!("../../pages/about.html");
const CONTACT: &str = include_str!("../../pages/contact.html");

fn html(page: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(page)
}

/// `GET /`: the form that posts urlencoded fields.
pub async fn index() -> HttpResponse {
    html(INDEX)
}

/// `GET /json`: the same form, posted as JSON by a script, answer shown in place.
pub async fn json_form() -> HttpResponse {
    html(JSON_FORM)
}

/// `GET /about`.
pub async fn about() -> HttpResponse {
    html(ABOUT)
}

/// `GET /contact`.
pub async fn contact() -> HttpResponse {
    html(CONTACT)
}
