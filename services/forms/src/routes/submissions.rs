//! `GET /submissions`: stored submissions, newest first, a page at a time;
//! `GET /submissions/{id}`: one of them.
//!
//! A page holds at most `limit` records and stops early, with a cursor, when
//! the next record would take it past `limits.max_page_bytes`. It is streamed
//! record by record from the journal, so however large the records, one
//! request holds about one of them in memory.

use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;
use futures_util::stream::{self, Stream, StreamExt};
use inlet_http::paging::{Envelope, PageQuery, PageSizes};

use crate::error::FormsError;
use crate::state::{AppState, Store};
use crate::store::{Page, SubmissionStore};

/// The page envelope of `/submissions`.
const ENVELOPE: Envelope = Envelope {
    items: "submissions",
};

/// Handles `GET /submissions?limit=N&cursor=C`.
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, FormsError> {
    let sizes = PageSizes {
        default_limit: state.limits.default_list_limit,
        max_limit: state.limits.max_list_limit,
    };
    let PageQuery { limit, cursor } = PageQuery::<u64>::parse(req.query_string(), sizes)?;
    let plan = state
        .store
        .plan_page(cursor, limit, state.limits.max_page_bytes)
        .await?;
    tracing::debug!(
        records = plan.records.len(),
        next_cursor = plan.next,
        "submissions page"
    );
    Ok(HttpResponse::Ok()
        .content_type(mime::APPLICATION_JSON)
        .streaming(page_body(Arc::clone(&state.store), plan)))
}

/// Handles `GET /submissions/{id}`: the record as stored; 404 for an id
/// that is not a stored submission's (or is not an id at all).
pub async fn one(
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, FormsError> {
    let id = uuid::Uuid::try_parse(&id).map_err(|_| FormsError::NotFound)?;
    let record = state.store.find(id).await?.ok_or(FormsError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(mime::APPLICATION_JSON)
        .body(record))
}

/// The page, one record read at a time.
fn page_body(
    store: Arc<Store>,
    plan: Page<<Store as SubmissionStore>::Entry>,
) -> impl Stream<Item = Result<Bytes, FormsError>> {
    let next_cursor = plan.next.map(|n| n.to_string());
    let head = stream::once(async { Ok(ENVELOPE.open()) });
    let records = stream::iter(plan.records.into_iter().enumerate()).then(move |(i, record)| {
        let store = Arc::clone(&store);
        async move {
            let text = store.read(record).await?;
            let mut piece = Vec::with_capacity(text.len() + 1);
            if i > 0 {
                piece.extend_from_slice(Envelope::SEPARATOR);
            }
            piece.extend_from_slice(&text);
            Ok(Bytes::from(piece))
        }
    });
    let tail = stream::once(async move { Ok(Envelope::close(next_cursor.as_deref())) });
    head.chain(records).chain(tail)
}
