//! Pages with one look across services: the shared stylesheet, the viewport,
//! a header with the service's nav (the same on each of its pages), and the
//! page's own content in `<main>`.

use actix_web::body::MessageBody;
use actix_web::http::header;
use actix_web::{web, HttpResponse};

use crate::routes::{get_or_head, method_not_allowed};

/// Where every service serves the shared stylesheet.
pub const STYLESHEET_PATH: &str = "/assets/inlet.css";

/// The shared stylesheet, built into every service.
const STYLESHEET: &str = include_str!("../assets/inlet.css");

/// A service's pages: its name and its nav, in order.
#[derive(Debug, Clone, Copy)]
pub struct Site {
    /// Shown in the header and page titles, e.g. `Inlet forms`.
    pub name: &'static str,
    /// `(path, label)` for each nav link.
    pub nav: &'static [(&'static str, &'static str)],
}

impl Site {
    /// A whole HTML document for the page at `path`, with `main` as its
    /// content; the nav marks `path` as the current page.
    pub fn render(&self, path: &str, title: &str, main: &str) -> String {
        let nav: String = self
            .nav
            .iter()
            .map(|(href, label)| {
                let current = if *href == path {
                    r#" aria-current="page""#
                } else {
                    ""
                };
                format!(r#"<li><a href="{href}"{current}>{label}</a></li>"#)
            })
            .collect();
        format!(
            r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title} · {site}</title>
  <link rel="stylesheet" href="{STYLESHEET_PATH}">
</head>
<body>
  <header>
    <a class="site" href="/">{site}</a>
    <nav aria-label="{site}"><ul>{nav}</ul></nav>
  </header>
  <main>
{main}
  </main>
</body>
</html>
"#,
            site = self.name,
        )
    }
}

/// An HTML answer.
pub fn html(page: impl MessageBody + 'static) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(page)
}

/// Adds `GET /assets/inlet.css`.
pub fn configure_assets(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(STYLESHEET_PATH)
            .route(get_or_head().to(stylesheet))
            .default_service(method_not_allowed("GET, HEAD")),
    );
}

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(STYLESHEET)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_current_page_is_marked_in_the_nav() {
        let site = Site {
            name: "Demo",
            nav: &[("/", "Home"), ("/about", "About")],
        };
        let page = site.render("/about", "About", "<p>hi</p>");
        assert!(page.contains(r#"<a href="/about" aria-current="page">About</a>"#));
        assert!(page.contains(r#"<a href="/">Home</a>"#));
        assert!(page.contains(r#"<meta name="viewport""#));
        assert!(page.contains(STYLESHEET_PATH));
        assert!(page.contains("<title>About · Demo</title>"));
    }
}
