//! `GET /submissions`: stored submissions, newest first, a page at a time.
//!
//! A page holds at most `limit` records and stops early, with a cursor, when
//! the next record would take it past `limits.max_page_bytes`. It is streamed
//! record by record from the journal, so however large the records, one
//! request holds about one of them in memory.

use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;
use futures_util::stream::{self, Stream, StreamExt};

use crate::error::FormsError;
use crate::state::AppState;
use crate::store::{Journal, PagePlan, StoreError};
use crate::urlencoded;

/// Most `key=value` pairs a `/submissions` query may have; it takes two.
const MAX_QUERY_PAIRS: usize = 8;

/// Handles `GET /submissions?limit=N&cursor=C`.
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, FormsError> {
    let query = urlencoded::parse(req.query_string().as_bytes(), MAX_QUERY_PAIRS)
        .map_err(|e| FormsError::BadQuery(format!("the query cannot be read: {e}")))?;
    let mut limit = state
        .limits
        .default_list_limit
        .min(state.limits.max_list_limit);
    let mut cursor = None;
    for (key, value) in &query {
        let Some(value) = value.as_str() else {
            return Err(FormsError::BadQuery(format!(
                "{key} is given more than once"
            )));
        };
        match key.as_str() {
            "limit" => {
                limit = value
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=state.limits.max_list_limit).contains(n))
                    .ok_or_else(|| {
                        FormsError::BadQuery(format!(
                            "limit must be a whole number from 1 to {}",
                            state.limits.max_list_limit
                        ))
                    })?;
            }
            "cursor" => {
                cursor = Some(value.parse::<u64>().map_err(|_| {
                    FormsError::BadQuery("cursor must be a value from next_cursor".into())
                })?);
            }
            _ => {}
        }
    }
    let journal = Arc::clone(&state.journal);
    let max_page_bytes = state.limits.max_page_bytes;
    let plan = web::block(move || journal.plan_page(cursor, limit, max_page_bytes))
        .await
        .map_err(|_| FormsError::Store(StoreError::Closed))??;
    tracing::debug!(
        records = plan.records.len(),
        next_cursor = plan.next,
        "submissions page"
    );
    Ok(HttpResponse::Ok()
        .content_type(mime::APPLICATION_JSON)
        .streaming(page_body(state.journal.clone(), plan)))
}

/// `{"submissions":[…],"next_cursor":…}`, one record read at a time.
fn page_body(
    journal: Arc<Journal>,
    plan: PagePlan,
) -> impl Stream<Item = Result<Bytes, FormsError>> {
    let next_cursor = match plan.next {
        Some(n) => format!("\"{n}\""),
        None => "null".to_owned(),
    };
    let head = stream::once(async { Ok(Bytes::from_static(b"{\"submissions\":[")) });
    let records = stream::iter(plan.records.into_iter().enumerate()).then(move |(i, record)| {
        let journal = Arc::clone(&journal);
        async move {
            let text = web::block(move || journal.read(&record))
                .await
                .map_err(|_| FormsError::Store(StoreError::Closed))??;
            let mut piece = Vec::with_capacity(text.len() + 1);
            if i > 0 {
                piece.push(b',');
            }
            piece.extend_from_slice(&text);
            Ok(Bytes::from(piece))
        }
    });
    let tail =
        stream::once(async move { Ok(Bytes::from(format!("],\"next_cursor\":{next_cursor}}}"))) });
    head.chain(records).chain(tail)
}
