//! Files under `<data_dir>/uploads/`: named from what the client sent but
//! never a path it chose, written under a temporary name, fsync'd, and only
//! then given their name, which is never taken from a file already there.
//!
//! [`FileStore`] is the seam the handlers use; [`FsStore`] keeps files on
//! the volume, [`S3Store`] in an S3 bucket, and [`Store`] is the one the
//! service runs.

mod backend;
mod dir_sync;
mod file_store;
mod filesystem;
mod incoming;
mod interval_sync;
mod listing;
pub mod meta;
mod names;
mod retention;
pub mod s3;

pub use backend::{Download, Pending, Sealed, Store};
pub use dir_sync::DirSync;
pub use file_store::{FileStore, PendingFile, StoreUnavailable};
pub use filesystem::{FsStore, SyncSettings};
pub use incoming::{remove_leftovers, this_machine, Incoming, INCOMING_PREFIX};
pub use listing::{is_stored_name, list, Cursor, Listed};
pub use names::{plain_name, printable, stored_name, MAX_FIELD_BYTES, MAX_NAME_BYTES};
pub use retention::{Expired, RetentionPolicy};
pub use s3::S3Store;
