//! Keeping the index equal to what the services hold: a catch-up of one
//! kind's newest items (after an arrival event), a full walk of every list
//! (a rebuild, at start-up when the index is new and on a timer), and
//! removals (after a delete or expiry event).

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{broadcast, Notify};
use tracing::Instrument;

use super::api::{ServiceApi, SourceError};
use super::convert;
use crate::index::item::{Item, Kind};
use crate::index::{Index, IndexError};
use crate::metrics::{InboxMetrics, Source};

/// Changes live pages hear of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// New items are in the index.
    Added,
    /// An item left the index.
    Removed {
        /// Its kind.
        kind: Kind,
        /// Its id.
        id: String,
    },
    /// Items left the index in bulk (an expiry, a rebuild): pages reload.
    Reload,
}

/// Why a catch-up or rebuild stopped.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// A service failed.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The index failed.
    #[error(transparent)]
    Index(#[from] IndexError),
}

/// The index and the services it mirrors.
pub struct Syncer {
    index: Arc<Index>,
    api: ServiceApi,
    metrics: InboxMetrics,
    batch: u32,
    generation: AtomicI64,
    changes: broadcast::Sender<Change>,
    pokes: [Notify; 3],
    arrivals: tokio::sync::mpsc::Sender<(Kind, String)>,
    arrivals_queue: std::sync::Mutex<Option<tokio::sync::mpsc::Receiver<(Kind, String)>>>,
}

/// Key of the rebuild generation in the index's meta table.
const GENERATION: &str = "generation";

/// Items asked for in one page of a catch-up: an arrival's catch-up
/// usually finds a few new items on top, and reads on only while a whole
/// page is new.
const CATCH_UP_PAGE: u32 = 100;

impl Syncer {
    /// A syncer over `index`, listing `batch` items a page.
    pub fn new(
        index: Arc<Index>,
        api: ServiceApi,
        metrics: InboxMetrics,
        batch: u32,
    ) -> Result<Self, IndexError> {
        let generation = index
            .meta(GENERATION)?
            .and_then(|g| g.parse().ok())
            .unwrap_or(0);
        let (changes, _) = broadcast::channel(1024);
        let (arrivals, queue) = tokio::sync::mpsc::channel(super::arrivals::QUEUE);
        Ok(Self {
            arrivals,
            arrivals_queue: std::sync::Mutex::new(Some(queue)),
            index,
            api,
            metrics,
            batch,
            generation: AtomicI64::new(generation),
            changes,
            pokes: [Notify::new(), Notify::new(), Notify::new()],
        })
    }

    /// The index.
    pub fn index(&self) -> &Arc<Index> {
        &self.index
    }

    /// The services' APIs.
    pub fn api(&self) -> &ServiceApi {
        &self.api
    }

    /// Hears every change from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    /// Asks for a catch-up of `kind` (coalesced: many pokes while one runs
    /// make one more run).
    pub fn poke(&self, kind: Kind) {
        self.pokes[slot(kind)].notify_one();
    }

    /// An item the feed says arrived: fetched by id and written soon (a
    /// catch-up of its kind when the queue is full).
    pub fn arrived(&self, kind: Kind, id: String) {
        if self.arrivals.try_send((kind, id)).is_err() {
            self.poke(kind);
        }
    }

    /// Fetches and writes arrivals until the task is dropped (once).
    pub async fn follow_arrivals(self: Arc<Self>) {
        let queue = self
            .arrivals_queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(queue) = queue {
            super::arrivals::follow(self, queue).await;
        }
    }

    /// Writes `items` (arrivals) to the index; how many were new.
    pub async fn write(&self, items: Vec<Item>) -> Result<usize, IndexError> {
        let generation = self.generation.load(Ordering::SeqCst);
        self.blocking(move |index| index.upsert(&items, generation))
            .await
    }

    /// Runs a catch-up of `kind` after each poke, until the task is dropped.
    pub async fn follow_pokes(self: Arc<Self>, kind: Kind) {
        loop {
            self.pokes[slot(kind)].notified().await;
            if let Err(err) = self.catch_up(kind).await {
                tracing::warn!(kind = kind.name(), error = %err, "catch-up failed; the next event or rebuild retries it");
            }
        }
    }

    /// Lists `kind` from its newest item until a page brings nothing new.
    pub async fn catch_up(&self, kind: Kind) -> Result<usize, SyncError> {
        let span = tracing::info_span!(
            "inbox.catch_up",
            kind = kind.name(),
            items.added = tracing::field::Empty
        );
        let added = async {
            let generation = self.generation.load(Ordering::SeqCst);
            let mut cursor = None;
            let mut added = 0;
            loop {
                let limit = CATCH_UP_PAGE.min(self.batch);
                let (page_added, next) = self
                    .list_page(kind, cursor.as_deref(), generation, limit)
                    .await?;
                added += page_added;
                match next {
                    Some(next) if page_added > 0 => cursor = Some(next),
                    _ => break,
                }
            }
            tracing::Span::current().record("items.added", added);
            Ok::<_, SyncError>(added)
        }
        .instrument(span)
        .await?;
        if added > 0 {
            self.changed(Change::Added);
        }
        Ok(added)
    }

    /// Walks every configured list in full: every item is written, and
    /// what no list holds any more is removed. Returns the items listed.
    pub async fn rebuild(&self) -> Result<usize, SyncError> {
        let span = tracing::info_span!(
            "inbox.rebuild",
            items.listed = tracing::field::Empty,
            items.removed = tracing::field::Empty
        );
        async {
            let started = Instant::now();
            let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
            self.blocking(move |index| index.set_meta(GENERATION, &generation.to_string()))
                .await?;
            let (mut listed, mut added, mut removed) = (0, 0, 0);
            let mut failed = None;
            // The kinds' services are walked at once; the index takes their
            // pages one at a time.
            let kinds = self.api.kinds();
            let walks = futures_util::future::join_all(
                kinds.iter().map(|kind| self.walk(*kind, generation)),
            )
            .await;
            for (kind, walked) in kinds.into_iter().zip(walks) {
                match walked {
                    Ok((count, new)) => {
                        listed += count;
                        added += new;
                        removed += self
                            .blocking(move |index| index.remove_unseen(kind, generation))
                            .await?;
                    }
                    Err(err) => {
                        tracing::warn!(kind = kind.name(), error = %err, "rebuild of one kind failed; the next rebuild tries again");
                        failed = Some(err);
                    }
                }
            }
            self.metrics.rebuilds.inc();
            self.refresh_gauges().await;
            tracing::Span::current().record("items.listed", listed);
            tracing::Span::current().record("items.removed", removed);
            tracing::info!(
                items.listed = listed,
                items.removed = removed,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "index rebuilt from the services' lists"
            );
            // Open pages add what is new; they are told to reload only when
            // items left that no event announced.
            if removed > 0 {
                self.changed(Change::Reload);
            } else if added > 0 {
                self.changed(Change::Added);
            }
            match failed {
                Some(err) => Err(err),
                None => Ok(listed),
            }
        }
        .instrument(span)
        .await
    }

    /// Every page of `kind`'s list into the index: how many items were
    /// listed, and how many of them were new. The next page is fetched
    /// while this one is written, so the service and the index work at once.
    async fn walk(&self, kind: Kind, generation: i64) -> Result<(usize, usize), SyncError> {
        let failed = |_: &SourceError| self.source_failed(kind);
        let mut page = self
            .api
            .list(kind, None, self.batch)
            .await
            .inspect_err(failed)?;
        let (mut listed, mut added) = (0, 0);
        loop {
            listed += page.items.len();
            let items = self.items_of(kind, std::mem::take(&mut page.items));
            let write = self.blocking(move |index| index.upsert(&items, generation));
            let Some(next) = page.next_cursor.take() else {
                added += write.await?;
                return Ok((listed, added));
            };
            let (written, fetched) =
                tokio::join!(write, self.api.list(kind, Some(&next), self.batch));
            added += written?;
            page = fetched.inspect_err(failed)?;
        }
    }

    /// One page: written to the index; how many were new, and the next cursor.
    async fn list_page(
        &self,
        kind: Kind,
        cursor: Option<&str>,
        generation: i64,
        limit: u32,
    ) -> Result<(usize, Option<String>), SyncError> {
        let page = self
            .api
            .list(kind, cursor, limit)
            .await
            .inspect_err(|_| self.source_failed(kind))?;
        let items = self.items_of(kind, page.items);
        let added = self
            .blocking(move |index| index.upsert(&items, generation))
            .await?;
        Ok((added, page.next_cursor))
    }

    fn items_of(&self, kind: Kind, values: Vec<serde_json::Value>) -> Vec<Item> {
        let source = Source {
            source: ServiceApi::service(kind),
        };
        self.metrics
            .listed_items
            .get_or_create(&source)
            .inc_by(values.len() as u64);
        values
            .iter()
            .filter_map(|value| {
                convert::item(kind, value)
                    .inspect_err(|err| tracing::warn!(error = %err, "an item the inbox cannot index was skipped"))
                    .ok()
            })
            .collect()
    }

    /// Forgets one item (deleted at its service).
    pub async fn remove(&self, kind: Kind, id: String) -> Result<bool, SyncError> {
        let key = id.clone();
        let removed = self.blocking(move |index| index.remove(kind, &key)).await?;
        if removed {
            self.changed(Change::Removed { kind, id });
        }
        Ok(removed)
    }

    /// Forgets every submission up to `last_id` (expired at forms).
    pub async fn remove_submissions_up_to(&self, last_id: String) -> Result<usize, SyncError> {
        let removed = self
            .blocking(move |index| index.remove_submissions_up_to(&last_id))
            .await?;
        if removed > 0 {
            self.changed(Change::Reload);
        }
        Ok(removed)
    }

    /// Updates the item and size gauges.
    pub async fn refresh_gauges(&self) {
        if let Ok((count, bytes)) = self
            .blocking(|index| Ok((index.count()?, index.disk_bytes())))
            .await
        {
            self.metrics.items.set(count as i64);
            self.metrics.index_bytes.set(bytes);
        }
    }

    /// Tells live pages of `change`.
    pub fn changed(&self, change: Change) {
        // No live page listening is fine.
        let _ = self.changes.send(change);
    }

    fn source_failed(&self, kind: Kind) {
        self.metrics
            .source_errors
            .get_or_create(&Source {
                source: ServiceApi::service(kind),
            })
            .inc();
    }

    /// Runs `f` on the index off the async threads.
    pub async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Index) -> Result<T, IndexError> + Send + 'static,
    ) -> Result<T, IndexError> {
        let index = Arc::clone(&self.index);
        tokio::task::spawn_blocking(move || f(&index))
            .await
            .expect("index work does not panic")
    }
}

const fn slot(kind: Kind) -> usize {
    match kind {
        Kind::Submission => 0,
        Kind::File => 1,
        Kind::Mail => 2,
    }
}
