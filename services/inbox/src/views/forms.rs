//! Small pages: signing in, confirming a delete, an error.

use maud::{html, Markup};

use super::frame::{page, Reader};
use crate::index::Row;

/// The sign-in page; `problem` says why the last try failed.
pub fn sign_in(next: &str, problem: Option<&str>) -> Markup {
    page(
        "Sign in",
        &Reader { csrf: None },
        html! {
            h1 { "Sign in" }
            p { "The inbox shows what arrived at this Inlet. Sign in with the access token set as "
                code { "INLET_ADMIN_TOKEN" } " (or " code { "INLET_READ_TOKEN" } " to read only)." }
            @if let Some(problem) = problem {
                p.problem role="alert" #sign-in-problem { (problem) }
            }
            form method="post" action="/sign-in" {
                input type="hidden" name="next" value=(next);
                label for="token" { "Access token" }
                input #token type="password" name="token" autocomplete="current-password"
                    spellcheck="false" required autofocus
                    aria-describedby=[problem.map(|_| "sign-in-problem")];
                button type="submit" { "Sign in" }
            }
        },
    )
}

/// "Delete these?" with the items and a button that does it.
pub fn confirm_delete(rows: &[Row], csrf: &str, back: &str) -> Markup {
    let title = if rows.len() == 1 {
        "Delete this item?"
    } else {
        "Delete these items?"
    };
    page(
        title,
        &Reader { csrf: Some(csrf) },
        html! {
            h1 { (title) }
            p { "Deleting removes each item from the service that stored it, for good: it cannot be undone." }
            ul.confirm {
                @for row in rows {
                    li { strong { (row.kind.name()) } " · " (row.summary) }
                }
            }
            form method="post" action="/delete" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="back" value=(back);
                @for row in rows {
                    input type="hidden" name="item" value=(format!("{}:{}", row.kind.name(), row.id));
                }
                div.actions {
                    button.danger type="submit" {
                        "Delete " (rows.len()) @if rows.len() == 1 { " item" } @else { " items" }
                    }
                    a href=(back) { "Cancel" }
                }
            }
        },
    )
}

/// An error as a page.
pub fn error(status: u16, message: &str, signed_in: Option<&str>) -> Markup {
    page(
        "Something went wrong",
        &Reader { csrf: signed_in },
        html! {
            h1 { "Something went wrong (" (status) ")" }
            p.problem role="alert" { (message) }
            p { a href="/" { "Back to all arrivals" } }
        },
    )
}
