//! `GET /`: the list of arrivals, or a search of it.

use std::time::Instant;

use actix_web::{web, HttpRequest, HttpResponse};
use inlet_common::access::Scope;
use inlet_http::page::html;
use serde::Deserialize;
use time::OffsetDateTime;
use tracing::Instrument;

use super::reader::reader;
use crate::error::InboxError;
use crate::index::query::Query;
use crate::index::search::Window;
use crate::state::AppState;
use crate::views::list::{list, ListPage};

/// The list's query string.
#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    before: Option<i64>,
    deleted: Option<usize>,
}

/// `GET /?q=…&before=…`.
pub async fn page(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, InboxError> {
    let who = reader(&req, Scope::Read)?;
    let ListQuery { q, before, deleted } = query.into_inner();
    let q = q.trim().to_owned();
    let limit = state.settings.page_size;
    let (parsed, problem) = match Query::parse(&q, OffsetDateTime::now_utc()) {
        Ok(parsed) => (Some(parsed), None),
        Err(err) => (None, Some(err.to_string())),
    };
    let span = tracing::info_span!("inbox.search", search.query = %q, search.results = tracing::field::Empty);
    let started = Instant::now();
    let (rows, newest) = match &parsed {
        Some(parsed) => {
            let parsed = parsed.clone();
            state
                .syncer
                .blocking(move |index| {
                    let rows = index.search(
                        &parsed,
                        Window::Older {
                            before,
                            limit: limit + 1,
                        },
                    )?;
                    Ok((rows, index.newest()?))
                })
                .instrument(span.clone())
                .await?
        }
        None => (Vec::new(), 0),
    };
    state
        .metrics
        .search_seconds
        .observe(started.elapsed().as_secs_f64());
    span.record("search.results", rows.len());
    let more = rows.len() > limit as usize;
    let rows = &rows[..rows.len().min(limit as usize)];
    let view = ListPage {
        q: &q,
        problem: problem.clone(),
        rows,
        older: more.then(|| rows.last().map(|r| r.rowid)).flatten(),
        newest: before.is_none(),
        live_after: newest,
        csrf: &who.csrf,
        deleted,
    };
    let body = list(&view).into_string();
    if problem.is_some() {
        let mut res = HttpResponse::BadRequest()
            .content_type("text/html; charset=utf-8")
            .body(body);
        res.extensions_mut().insert(inlet_http::errors::OwnBody);
        return Ok(res);
    }
    Ok(html(body))
}
