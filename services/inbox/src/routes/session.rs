//! Signing in with a token typed into a page, and signing out.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use inlet_common::access::Scope;
use inlet_http::access::session::{sign_in_with_typed_token, sign_out_cookie};
use inlet_http::access::{from_own_page, AccessError};
use inlet_http::page::html;
use serde::Deserialize;

use super::reader::changer;
use crate::error::InboxError;
use crate::views;

/// `?next=` on the sign-in page.
#[derive(Deserialize)]
pub struct Next {
    #[serde(default)]
    next: String,
}

/// The sign-in form's fields.
#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    next: String,
}

/// The sign-out form's fields.
#[derive(Deserialize)]
pub struct SignOutForm {
    #[serde(default)]
    csrf: String,
}

/// `GET /sign-in`.
pub async fn page(query: web::Query<Next>) -> HttpResponse {
    html(views::forms::sign_in(&local_path(&query.next), None).into_string())
}

/// `POST /sign-in`: the token in, the session cookie out, and on to `next`.
pub async fn sign_in(req: HttpRequest, form: web::Form<SignInForm>) -> HttpResponse {
    let next = local_path(&form.next);
    // A sign-in forced on a reader by another site would sign them in as
    // someone else: only this inbox's own page may sign in.
    if !from_own_page(&req) {
        return page_with_problem(
            actix_web::http::StatusCode::FORBIDDEN,
            &next,
            "Sign in from this inbox's own page.",
        );
    }
    match sign_in_with_typed_token(&req, &form.token) {
        Ok((_, cookie)) => HttpResponse::SeeOther()
            .insert_header((header::SET_COOKIE, cookie))
            .insert_header((header::LOCATION, next))
            .finish(),
        Err(err) => {
            let status = inlet_http::errors::status_of(inlet_http::errors::PublicError::code(&err));
            let message = match &err {
                AccessError::Throttled { .. } => err.to_string(),
                _ => "That token is not one this inbox accepts.".into(),
            };
            let mut res = page_with_problem(status, &next, &message);
            if let Some(retry) = inlet_http::errors::PublicError::retry_after(&err) {
                res.headers_mut().insert(header::RETRY_AFTER, retry.into());
            }
            res
        }
    }
}

/// `POST /sign-out`: the cookie removed, back to the sign-in page.
pub async fn sign_out(
    req: HttpRequest,
    form: web::Form<SignOutForm>,
) -> Result<HttpResponse, InboxError> {
    changer(&req, Scope::Read, &form.csrf)?;
    tracing::info!("page session ended");
    Ok(HttpResponse::SeeOther()
        .insert_header((header::SET_COOKIE, sign_out_cookie()))
        .insert_header((header::LOCATION, "/sign-in"))
        .finish())
}

fn page_with_problem(
    status: actix_web::http::StatusCode,
    next: &str,
    problem: &str,
) -> HttpResponse {
    let mut res = HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(views::forms::sign_in(next, Some(problem)).into_string());
    res.extensions_mut().insert(inlet_http::errors::OwnBody);
    res
}

/// `next` when it is a path of this inbox, else `/` (never another site).
pub fn local_path(next: &str) -> String {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    if local {
        next.to_owned()
    } else {
        "/".into()
    }
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn next_stays_on_this_inbox() {
        assert_eq!(
            local_path("/items/mail/ab?remote=1"),
            "/items/mail/ab?remote=1"
        );
        for elsewhere in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "",
            "items",
            "/a\nb",
        ] {
            assert_eq!(local_path(elsewhere), "/", "{elsewhere:?}");
        }
    }
}
