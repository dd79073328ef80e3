//! The seam between the upload handlers and where files are kept.
//!
//! Handlers and `receive.rs` speak only these two traits; a store keeps
//! every promise the filesystem store keeps: a file is visible only once it
//! is whole and durable, a request's files are named together or not at
//! all, a name already taken is never replaced (the next free variant is
//! used), and a full disk is `StorageFull` (507 to the client).
//! [`super::FsStore`] keeps files on the volume, [`super::S3Store`] in a
//! bucket; [`super::Store`] is whichever the service runs.

use std::future::Future;
use std::io;
use std::time::SystemTime;

use super::listing::{Cursor, Listed};
use super::meta::FileMeta;
use super::retention::{Expired, RetentionPolicy};

/// Where uploaded files are kept.
pub trait FileStore: Send + Sync + 'static {
    /// A file being written.
    type Pending: PendingFile<Sealed = Self::Sealed>;
    /// A whole, durable file waiting for its name. Dropped, it leaves nothing.
    type Sealed: Send + 'static;
    /// A stored file, as the download route is given it.
    type Download: Send + 'static;

    /// Starts a file. Dropped before it is committed, it leaves nothing behind.
    fn begin(&self) -> impl Future<Output = io::Result<Self::Pending>> + Send;

    /// Writes a whole small file with its metadata in one go, sealed. The
    /// `bool` says whether the metadata was kept (the file is kept anyway).
    fn put_sealed(
        &self,
        bytes: Vec<u8>,
        meta: &FileMeta,
    ) -> impl Future<Output = io::Result<(Self::Sealed, bool)>> + Send;

    /// Gives every sealed file its wanted name, or the next free variant of
    /// it, never replacing a stored file, and makes the names durable.
    /// Returns the names given, in order; on any failure none is kept.
    fn commit(
        &self,
        files: Vec<(Self::Sealed, String)>,
    ) -> impl Future<Output = io::Result<Vec<String>>> + Send;

    /// Up to `limit` stored files older than `after` (all when `None`),
    /// newest first, and the cursor of the next page when there may be more.
    fn list(
        &self,
        after: Option<Cursor>,
        limit: usize,
    ) -> impl Future<Output = io::Result<(Vec<Listed>, Option<Cursor>)>> + Send;

    /// The stored file `name`, for download, or `None` if there is none
    /// (whatever `name` is: a path, a temporary name, a link).
    fn open(&self, name: &str) -> impl Future<Output = io::Result<Option<Self::Download>>> + Send;

    /// What is known about the stored file `name` (as `list` shows it), or
    /// `None` if there is none.
    fn describe(&self, name: &str) -> impl Future<Output = io::Result<Option<Listed>>> + Send;

    /// Removes the stored file `name`, durably; `None` if there was none,
    /// else its size.
    fn delete(&self, name: &str) -> impl Future<Output = io::Result<Option<u64>>> + Send;

    /// Removes what crashed uploads left behind that is certainly no
    /// longer written to, as of `now`; returns how many things it removed.
    fn tidy(&self, now: SystemTime) -> impl Future<Output = io::Result<usize>> + Send;

    /// Removes, durably, every file `policy` no longer keeps as of `now`,
    /// oldest first; returns what it removed.
    fn expire(
        &self,
        policy: RetentionPolicy,
        now: SystemTime,
    ) -> impl Future<Output = io::Result<Vec<Expired>>> + Send;
}

/// A file being written to a store.
pub trait PendingFile: Send + 'static {
    /// What sealing it gives.
    type Sealed;

    /// Appends `bytes`.
    fn write(&mut self, bytes: &[u8]) -> impl Future<Output = io::Result<()>> + Send;

    /// Attaches `meta` and makes bytes and metadata durable. The `bool`
    /// says whether the metadata was kept (the file is kept anyway).
    fn seal(self, meta: &FileMeta)
        -> impl Future<Output = io::Result<(Self::Sealed, bool)>> + Send;
}

/// The store's backing service cannot be reached now (the client is
/// answered 503 and may try again).
#[derive(Debug, thiserror::Error)]
#[error("the upload store is unreachable: {0}")]
pub struct StoreUnavailable(pub String);

impl StoreUnavailable {
    /// Whether `err` is the store saying its backing service is away.
    pub fn is_cause_of(err: &io::Error) -> bool {
        err.get_ref().is_some_and(|inner| inner.is::<Self>())
    }
}
