//! One file's way in, the same for multipart parts and PUT bodies: bytes
//! counted against `limits.max_file_bytes`, hashed and written as they come,
//! sealed (durable, with its metadata) when the part ends, and given its
//! stored name only when the whole request has succeeded.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use inlet_common::publish::{event, new_event, FileStored, Publisher};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tracing::Instrument;

use crate::error::UploadsError;
use crate::state::{AppState, Store};
use crate::store::meta::FileMeta;
use crate::store::{stored_name, FileStore, PendingFile};

/// What the client is told about a stored file.
#[derive(Debug, Clone, Serialize)]
pub struct StoredFile {
    /// The name it is stored under (`GET /files/<name>` downloads it).
    pub name: String,
    /// The name the client sent.
    pub original_name: String,
    /// The form field it came from.
    pub field: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256, hex, computed while it streamed in.
    pub sha256: String,
}

/// Files up to this size are gathered in memory and written, sealed and
/// fsync'd in one go on a blocking thread; a larger one goes to its
/// temporary file as it arrives. One such buffer at most per connection.
pub const IN_MEMORY_UP_TO: usize = 64 * 1024;

/// A file being received; its `uploads.file.stored` span lasts until the
/// file is named or dropped.
pub struct FileSink {
    bytes: Held,
    len: u64,
    store: Arc<Store>,
    hasher: Sha256,
    cap: u64,
    span: tracing::Span,
    started: Instant,
    /// Who is sending it, kept in its metadata.
    client: Option<std::net::IpAddr>,
}

/// Where a file's bytes are until it is sealed.
enum Held {
    /// Small so far: in memory.
    Memory(Vec<u8>),
    /// In the store, being written.
    Stored(<Store as FileStore>::Pending),
}

impl FileSink {
    /// Starts a file for the uploads folder (in memory until it outgrows
    /// [`IN_MEMORY_UP_TO`]).
    pub fn start(state: &AppState, client: Option<std::net::IpAddr>) -> Self {
        Self {
            client,
            bytes: Held::Memory(Vec::new()),
            len: 0,
            store: Arc::clone(&state.store),
            hasher: Sha256::new(),
            cap: state.limits.max_file_bytes,
            span: tracing::info_span!(
                "uploads.file.stored",
                uploads.file.field = tracing::field::Empty,
                uploads.file.name = tracing::field::Empty,
                uploads.file.size = tracing::field::Empty,
                uploads.file.sha256 = tracing::field::Empty,
                uploads.file.duration_ms = tracing::field::Empty,
            ),
            started: Instant::now(),
        }
    }

    /// Appends `chunk`; refused, with nothing written, if the file would
    /// pass `limits.max_file_bytes`.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), UploadsError> {
        if self.len + chunk.len() as u64 > self.cap {
            return Err(UploadsError::FileTooLarge { limit: self.cap });
        }
        self.hasher.update(chunk);
        self.len += chunk.len() as u64;
        match &mut self.bytes {
            Held::Memory(held) if held.len() + chunk.len() <= IN_MEMORY_UP_TO => {
                held.extend_from_slice(chunk);
            }
            Held::Memory(held) => {
                let mut pending = self.store.begin().await?;
                pending.write(held).await?;
                pending.write(chunk).await?;
                self.bytes = Held::Stored(pending);
            }
            Held::Stored(pending) => pending.write(chunk).await?,
        }
        Ok(())
    }

    /// Ends the file: bytes and metadata made durable under the temporary
    /// name, its stored name chosen (taken only by [`commit_all`]).
    pub async fn seal(self, field: &str, original_name: &str) -> Result<Sealed, UploadsError> {
        let Self {
            bytes,
            len,
            store,
            hasher,
            span,
            started,
            client,
            ..
        } = self;
        let now = SystemTime::now();
        let millis = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let meta = FileMeta::new(
            original_name,
            field,
            format!("{:x}", hasher.finalize()),
            inlet_common::record::rfc3339(now.into()),
        )
        .with_client(client);
        span.record("uploads.file.field", field);
        // Recorded as i64: tracing-opentelemetry exports a u64 as a string.
        span.record("uploads.file.size", len as i64);
        span.record("uploads.file.sha256", meta.sha256.as_str());
        let (file, kept) = async {
            match bytes {
                Held::Memory(held) => store.put_sealed(held, &meta).await,
                Held::Stored(pending) => pending.seal(&meta).await,
            }
        }
        .instrument(span.clone())
        .await?;
        if !kept {
            tracing::warn!(
                "the uploads filesystem keeps no extended attributes: file metadata is not stored"
            );
        }
        Ok(Sealed {
            name: stored_name(field, millis, original_name),
            size: len,
            file,
            meta,
            span,
            started,
        })
    }
}

/// A whole, durable file waiting for its name.
pub struct Sealed {
    file: <Store as FileStore>::Sealed,
    name: String,
    size: u64,
    meta: FileMeta,
    span: tracing::Span,
    started: Instant,
}

/// Names every sealed file (never replacing one) and makes the names
/// durable; on any failure no file of the batch is kept. Logs each stored
/// file with the client's address.
pub async fn commit_all(
    store: &Store,
    sealed: Vec<Sealed>,
    client: &str,
) -> Result<Vec<StoredFile>, UploadsError> {
    // With one file, a failure names it; with several, the store cannot say which.
    let only_name = match sealed.as_slice() {
        [only] => Some(only.meta.original_name.clone()),
        _ => None,
    };
    let (files, described): (Vec<_>, Vec<_>) = sealed
        .into_iter()
        .map(|f| ((f.file, f.name), (f.meta, f.size, f.span, f.started)))
        .unzip();
    let names = store.commit(files).await.map_err(|err| {
        let err = UploadsError::from(err);
        match &only_name {
            Some(name) => err.saving(name),
            None => err,
        }
    })?;
    let stored = names
        .into_iter()
        .zip(described)
        .map(|(name, (meta, size, span, started))| {
            span.record("uploads.file.name", name.as_str());
            span.record(
                "uploads.file.duration_ms",
                started.elapsed().as_millis() as i64,
            );
            span.in_scope(|| {
                tracing::info!(
                    stored_name = %name,
                    size,
                    client.address = client,
                    "file stored"
                );
            });
            StoredFile {
                name,
                original_name: meta.original_name,
                field: meta.field,
                size,
                sha256: meta.sha256,
            }
        })
        .collect();
    Ok(stored)
}

/// Announces each stored file on the event feed, under the current span.
pub fn publish_stored(publisher: &Publisher, stored: &[StoredFile]) {
    if !publisher.is_enabled() {
        return;
    }
    let now = time::OffsetDateTime::now_utc();
    for file in stored {
        publisher.publish(new_event(
            uuid::Uuid::now_v7(),
            now,
            "inlet-uploads",
            event::Kind::FileStored(FileStored {
                stored_name: file.name.clone(),
                original_name: file.original_name.clone(),
                field: file.field.clone(),
                size: file.size,
                sha256: file.sha256.clone(),
            }),
        ));
    }
}
