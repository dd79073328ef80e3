//! The HTML pages, in the shared look.

use std::sync::OnceLock;

use actix_web::web::Bytes;
use actix_web::HttpResponse;
use inlet_http::page::{html, Site};

/// Uploads' pages and nav.
const SITE: Site = Site {
    name: "Inlet uploads",
    nav: &[("/", "Multipart upload"), ("/put", "PUT upload")],
};

static UPLOAD_PAGE: OnceLock<Bytes> = OnceLock::new();
static PUT_PAGE: OnceLock<Bytes> = OnceLock::new();

/// `GET /`: the seed's multipart form, a text input and two file inputs.
pub async fn upload_page() -> HttpResponse {
    html(
        UPLOAD_PAGE
            .get_or_init(|| {
                SITE.render("/", "Upload files", include_str!("../../pages/upload.html"))
                    .into()
            })
            .clone(),
    )
}

/// `GET /put`: pick a file, PUT it, watch it go.
pub async fn put_page() -> HttpResponse {
    html(
        PUT_PAGE
            .get_or_init(|| {
                SITE.render("/put", "PUT upload", include_str!("../../pages/put.html"))
                    .into()
            })
            .clone(),
    )
}
