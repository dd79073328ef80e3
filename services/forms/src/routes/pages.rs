//! The HTML pages: the urlencoded form, the JSON form, about and contact,
//! each rendered once in the shared look.

use std::sync::OnceLock;

use actix_web::web::Bytes;
use actix_web::HttpResponse;
use inlet_http::page::{html, Site};

/// Forms' pages and its nav, the same on every page.
const SITE: Site = Site {
    name: "Inlet forms",
    nav: &[
        ("/", "Form"),
        ("/json", "JSON form"),
        ("/submissions", "Submissions"),
        ("/about", "About"),
        ("/contact", "Contact"),
    ],
};

/// A page rendered on first use and kept.
struct Page {
    path: &'static str,
    title: &'static str,
    main: &'static str,
    rendered: OnceLock<Bytes>,
}

impl Page {
    const fn new(path: &'static str, title: &'static str, main: &'static str) -> Self {
        Self {
            path,
            title,
            main,
            rendered: OnceLock::new(),
        }
    }

    fn answer(&self) -> HttpResponse {
        // Bytes: each answer shares the one rendering, no copy.
        html(
            self.rendered
                .get_or_init(|| SITE.render(self.path, self.title, self.main).into())
                .clone(),
        )
    }
}

static INDEX: Page = Page::new("/", "Form", include_str!("../../pages/index.html"));
static JSON_FORM: Page = Page::new("/json", "JSON form", include_str!("../../pages/json.html"));
static ABOUT: Page = Page::new("/about", "About", include_str!("../../pages/about.html"));
static CONTACT: Page = Page::new(
    "/contact",
    "Contact",
    include_str!("../../pages/contact.html"),
);

/// `GET /`: the form that posts urlencoded fields.
pub async fn index() -> HttpResponse {
    INDEX.answer()
}

/// `GET /json`: the same form, posted as JSON by a script, answer shown in place.
pub async fn json_form() -> HttpResponse {
    JSON_FORM.answer()
}

/// `GET /about`.
pub async fn about() -> HttpResponse {
    ABOUT.answer()
}

/// `GET /contact`.
pub async fn contact() -> HttpResponse {
    CONTACT.answer()
}
