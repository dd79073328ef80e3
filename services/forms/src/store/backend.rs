//! [`Store`]: the submission store `store.backend` names, behind one type
//! the handlers and the sweep use.

use std::time::SystemTime;

use uuid::Uuid;

use super::postgres::Postgres;
use super::{
    Compacted, Entry, Expired, Journal, Page, Removed, RetentionPolicy, StoreError, SubmissionStore,
};

/// The journal on the data volume, or PostgreSQL.
pub enum Store {
    /// `store.backend = "journal"` (the default).
    Journal(std::sync::Arc<Journal>),
    /// `store.backend = "postgres"`.
    Postgres(Postgres),
}

/// Where one record of a page is, per backend.
pub enum StoreEntry {
    /// A span in a journal segment.
    Journal(Entry),
    /// The record itself, read with the page.
    Postgres(Vec<u8>),
}

impl Store {
    /// The journal, when this store is one (for tests that stop its writer).
    pub fn journal(&self) -> Option<&Journal> {
        match self {
            Store::Journal(journal) => Some(journal.as_ref()),
            Store::Postgres(_) => None,
        }
    }

    /// The `/readyz` check that says whether appends are taken.
    pub fn readiness_check(&self) -> &'static str {
        match self {
            Store::Journal(_) => "journal-writer",
            Store::Postgres(_) => "postgres",
        }
    }
}

impl SubmissionStore for Store {
    type Entry = StoreEntry;

    async fn append(&self, line: Vec<u8>) -> Result<u64, StoreError> {
        match self {
            Store::Journal(journal) => SubmissionStore::append(journal.as_ref(), line).await,
            Store::Postgres(postgres) => postgres.append(line).await,
        }
    }

    async fn plan_page(
        &self,
        before: Option<u64>,
        limit: usize,
        max_bytes: u64,
    ) -> Result<Page<StoreEntry>, StoreError> {
        Ok(match self {
            Store::Journal(journal) => {
                let page = journal.plan_page(before, limit, max_bytes).await?;
                Page {
                    records: page.records.into_iter().map(StoreEntry::Journal).collect(),
                    next: page.next,
                }
            }
            Store::Postgres(postgres) => {
                let page = postgres.plan_page(before, limit, max_bytes).await?;
                Page {
                    records: page.records.into_iter().map(StoreEntry::Postgres).collect(),
                    next: page.next,
                }
            }
        })
    }

    async fn find(&self, id: Uuid) -> Result<Option<Vec<u8>>, StoreError> {
        match self {
            Store::Journal(journal) => journal.find(id).await,
            Store::Postgres(postgres) => postgres.find(id).await,
        }
    }

    async fn delete(&self, id: Uuid, now: SystemTime) -> Result<Option<Removed>, StoreError> {
        match self {
            Store::Journal(journal) => journal.delete(id, now).await,
            Store::Postgres(postgres) => postgres.delete(id, now).await,
        }
    }

    async fn compact(&self, deleted_before: SystemTime) -> Result<Compacted, StoreError> {
        match self {
            Store::Journal(journal) => journal.compact(deleted_before).await,
            Store::Postgres(postgres) => postgres.compact(deleted_before).await,
        }
    }

    async fn expire(
        &self,
        policy: RetentionPolicy,
        now: SystemTime,
    ) -> Result<Expired, StoreError> {
        match self {
            Store::Journal(journal) => journal.expire(policy, now).await,
            Store::Postgres(postgres) => postgres.expire(policy, now).await,
        }
    }

    async fn read(&self, entry: StoreEntry) -> Result<Vec<u8>, StoreError> {
        match (self, entry) {
            (Store::Journal(journal), StoreEntry::Journal(entry)) => journal.read(entry).await,
            (_, StoreEntry::Postgres(record)) => Ok(record),
            (Store::Postgres(_), StoreEntry::Journal(_)) => {
                unreachable!("a journal entry comes only from a journal store")
            }
        }
    }

    fn is_taking_writes(&self) -> bool {
        match self {
            Store::Journal(journal) => journal.is_taking_writes(),
            Store::Postgres(postgres) => postgres.is_taking_writes(),
        }
    }

    async fn close(&self) {
        match self {
            Store::Journal(journal) => SubmissionStore::close(journal.as_ref()).await,
            Store::Postgres(postgres) => postgres.close().await,
        }
    }
}
