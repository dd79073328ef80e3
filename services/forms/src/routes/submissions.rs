//! `GET /submissions`: stored submissions, newest first, a page at a time.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use serde_json::value::RawValue;

use crate::error::FormsError;
use crate::state::AppState;
use crate::urlencoded;

/// Most `key=value` pairs a `/submissions` query may have; it takes two.
const MAX_QUERY_PAIRS: usize = 8;

#[derive(Serialize)]
struct Page {
    submissions: Vec<Box<RawValue>>,
    /// Pass as `?cursor=` to get the next (older) page; `null` on the last page.
    next_cursor: Option<String>,
}

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
    let journal = state.journal.clone();
    let (submissions, next) = web::block(move || journal.page(cursor, limit))
        .await
        .map_err(|_| FormsError::Store(crate::store::StoreError::Closed))??;
    Ok(HttpResponse::Ok().json(Page {
        submissions,
        next_cursor: next.map(|n| n.to_string()),
    }))
}
