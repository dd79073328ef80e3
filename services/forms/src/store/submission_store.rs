//! The seam between the forms handlers and where submissions are kept.
//!
//! A store keeps the journal's promises: `append` answers only once the
//! record is durable (per `store.sync`) and gives it the next sequence
//! number; a page lists records newest first by sequence, and a cursor
//! (`before`) stays valid as records are added; opening a store recovers
//! whatever a crash left, before the first append. [`super::Journal`] (the
//! segmented JSON-lines journal) is the one implementation; another (a
//! database) is a new file, and `crate::state::Store` names which one the
//! service runs.

use std::future::Future;

use super::StoreError;

/// Where submissions are kept.
pub trait SubmissionStore: Send + Sync + 'static {
    /// Where one record of a page is, until it is read.
    type Entry: Send + 'static;

    /// Appends one record (a single line of JSON, no newline) and waits
    /// until it is durable. Returns its sequence number.
    fn append(&self, line: Vec<u8>) -> impl Future<Output = Result<u64, StoreError>>;

    /// Which records a page holds: up to `limit` with sequence numbers below
    /// `before` (all, when `None`), newest first, stopping early when the
    /// next would take the page past `max_bytes` (a page always holds at
    /// least one record, so paging always moves on).
    fn plan_page(
        &self,
        before: Option<u64>,
        limit: usize,
        max_bytes: u64,
    ) -> impl Future<Output = Result<Page<Self::Entry>, StoreError>> + Send;

    /// The record with `id`, as stored; `None` when there is none.
    fn find(
        &self,
        id: uuid::Uuid,
    ) -> impl Future<Output = Result<Option<Vec<u8>>, StoreError>> + Send;

    /// Deletes the record with `id` at `now`: from the moment this answers,
    /// no read returns it, across restarts too. `None` when there is no
    /// such record (or it is deleted already). Its bytes leave the disk at
    /// the next [`SubmissionStore::compact`] that counts its deletion due.
    fn delete(
        &self,
        id: uuid::Uuid,
        now: std::time::SystemTime,
    ) -> impl Future<Output = Result<Option<Removed>, StoreError>> + Send;

    /// Erases from the disk every deleted record deleted at or before
    /// `deleted_before`.
    fn compact(
        &self,
        deleted_before: std::time::SystemTime,
    ) -> impl Future<Output = Result<super::Compacted, StoreError>> + Send;

    /// Drops what `policy` no longer keeps as of `now`, oldest first.
    fn expire(
        &self,
        policy: super::RetentionPolicy,
        now: std::time::SystemTime,
    ) -> impl Future<Output = Result<super::Expired, StoreError>> + Send;

    /// One record's JSON text, as stored.
    fn read(&self, entry: Self::Entry) -> impl Future<Output = Result<Vec<u8>, StoreError>> + Send;

    /// Whether appends are still taken (for `/readyz`).
    fn is_taking_writes(&self) -> bool;

    /// Writes everything appended so far and stops taking appends.
    fn close(&self) -> impl Future<Output = ()>;
}

/// The records of one page and the cursor of the next.
#[derive(Debug)]
pub struct Page<E> {
    /// Newest first.
    pub records: Vec<E>,
    /// The `before` of the next (older) page; `None` on the last page.
    pub next: Option<u64>,
}

/// A record just deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Removed {
    /// Its sequence number.
    pub sequence: u64,
    /// Its size as stored.
    pub bytes: u64,
}
