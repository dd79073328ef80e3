//! The document around every page: the shared stylesheet and the inbox's
//! own, the header with the nav, sign-out, and the page's `<main>`.

use maud::{html, Markup, DOCTYPE};

/// What the header needs to know about the reader.
pub struct Reader<'a> {
    /// The session's anti-forgery token, for the sign-out form; `None`
    /// when nobody is signed in.
    pub csrf: Option<&'a str>,
}

/// A whole page titled `title` around `main`.
pub fn page(title: &str, reader: &Reader<'_>, main: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Inlet inbox" }
                link rel="stylesheet" href=(inlet_http::page::STYLESHEET_PATH);
                link rel="stylesheet" href="/assets/inbox.css";
                script src="/assets/inbox.js" defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header {
                    a.site href="/" { "Inlet inbox" }
                    @if let Some(csrf) = reader.csrf {
                        nav aria-label="Inlet inbox" {
                            ul {
                                li { a href="/" { "All arrivals" } }
                                li {
                                    form.inline method="post" action="/sign-out" {
                                        input type="hidden" name="csrf" value=(csrf);
                                        button.link type="submit" { "Sign out" }
                                    }
                                }
                            }
                        }
                    }
                }
                main #main tabindex="-1" { (main) }
            }
        }
    }
}
