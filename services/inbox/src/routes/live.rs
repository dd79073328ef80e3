//! `GET /live?q=…&after=…`: new rows for an open list, as server-sent
//! events: `rows` (JSON `{"after", "html"}`, oldest first, for the top of
//! the table), `removed` (`kind:id` of a row to take out) and `stale`
//! (items left in bulk: the page offers a reload). `after` counts in the
//! order the index learned of items (an item can be learned of after a
//! newer one), and a page resumes where it was with `Last-Event-ID`.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;
use inlet_common::access::Scope;
use serde::Deserialize;
use time::OffsetDateTime;
use tokio::sync::broadcast::error::RecvError;

use super::reader::reader;
use crate::error::InboxError;
use crate::index::query::Query;
use crate::index::search::Window;
use crate::sources::sync::Change;
use crate::state::AppState;
use crate::views::list::row_html;

/// Rows sent in one event at most; more follow in the next.
const ROWS_PER_EVENT: u32 = 200;

/// A comment this often keeps proxies from closing an idle stream.
const KEEPALIVE: Duration = Duration::from_secs(15);

/// The live stream's query.
#[derive(Deserialize)]
pub struct LiveQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    after: i64,
}

/// `GET /live`.
pub async fn stream(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<LiveQuery>,
) -> Result<HttpResponse, InboxError> {
    reader(&req, Scope::Read)?;
    let parsed = Query::parse(query.q.trim(), OffsetDateTime::now_utc())?;
    let permit = Arc::clone(&state.live_pages)
        .try_acquire_owned()
        .map_err(|_| InboxError::TooManyLivePages)?;
    let resumed = req
        .headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok());
    let after = resumed.unwrap_or(query.after);
    let changes = state.syncer.subscribe();
    state.metrics.live_pages.inc();
    let live = Live {
        state: state.clone(),
        query: parsed,
        after,
        changes,
        _permit: permit,
        pending: std::collections::VecDeque::from([Bytes::from_static(b"retry: 2000\n\n")]),
        catch_up: true,
    };
    let body = futures_util::stream::unfold(live, |mut live| async move {
        let chunk = live.next_chunk().await?;
        Some((Ok::<_, Infallible>(chunk), live))
    });
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/event-stream"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(body))
}

/// One page's stream.
struct Live {
    state: web::Data<AppState>,
    query: Query,
    after: i64,
    changes: tokio::sync::broadcast::Receiver<Change>,
    _permit: tokio::sync::OwnedSemaphorePermit,
    pending: std::collections::VecDeque<Bytes>,
    catch_up: bool,
}

impl Drop for Live {
    fn drop(&mut self) {
        self.state.metrics.live_pages.dec();
    }
}

impl Live {
    /// The next piece of the stream; `None` ends it.
    async fn next_chunk(&mut self) -> Option<Bytes> {
        loop {
            if let Some(chunk) = self.pending.pop_front() {
                return Some(chunk);
            }
            if self.catch_up {
                self.catch_up = false;
                self.read_new_rows().await;
                continue;
            }
            let change = tokio::select! {
                () = self.state.stopping.cancelled() => return None,
                change = tokio::time::timeout(KEEPALIVE, self.changes.recv()) => change,
            };
            match change {
                Err(_) => return Some(Bytes::from_static(b": keepalive\n\n")),
                Ok(Ok(Change::Added)) | Ok(Err(RecvError::Lagged(_))) => self.catch_up = true,
                Ok(Ok(Change::Removed { kind, id })) => {
                    let data =
                        serde_json::to_string(&format!("{}:{id}", kind.name())).unwrap_or_default();
                    self.pending
                        .push_back(Bytes::from(format!("event: removed\ndata: {data}\n\n")));
                }
                Ok(Ok(Change::Reload)) => {
                    self.pending
                        .push_back(Bytes::from_static(b"event: stale\ndata: {}\n\n"));
                    self.catch_up = true;
                }
                // The inbox is stopping: end the stream (the page reconnects).
                Ok(Err(RecvError::Closed)) => return None,
            }
        }
    }

    async fn read_new_rows(&mut self) {
        loop {
            let (query, after) = (self.query.clone(), self.after);
            let rows = self
                .state
                .syncer
                .blocking(move |index| {
                    index.search(
                        &query,
                        Window::Newer {
                            after,
                            limit: ROWS_PER_EVENT,
                        },
                    )
                })
                .await;
            let Ok(rows) = rows else { return };
            let Some(last) = rows.last() else { return };
            self.after = last.seq;
            let html: String = rows
                .iter()
                .rev()
                .map(|row| row_html(row).into_string())
                .collect();
            let data = serde_json::json!({ "after": self.after, "html": html }).to_string();
            self.pending.push_back(Bytes::from(format!(
                "id: {}\nevent: rows\ndata: {data}\n\n",
                self.after
            )));
            if rows.len() < ROWS_PER_EVENT as usize {
                return;
            }
        }
    }
}
