//! The S3 store (`store.backend = "s3"`): files as objects under
//! `<prefix>files/` in one bucket, shared by every replica.
//!
//! A file is visible only once whole: a small one is one conditional
//! `PutObject`; a large one streams to a staging key as a multipart upload
//! and is copied, server-side, to its name by a second multipart upload
//! completed with `If-None-Match: *`. Either way S3 itself refuses a name
//! already taken, so no replica ever replaces another's file; the next
//! free variant is tried instead, as on the volume. The metadata travels
//! with the object (`x-amz-meta-inlet`).

mod bucket;
pub mod client;
mod health;
mod keys;
mod naming;
mod remote;
pub mod settings;
mod tidy;
mod upload;

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use futures_util::{StreamExt, TryStreamExt};
use prometheus_client::metrics::gauge::Gauge;
use tokio::task::JoinHandle;

use super::file_store::FileStore;
use super::listing::{is_stored_name, listed, page, Cursor, Listed};
use super::meta::FileMeta;
use super::retention::{choose_from, Expired, RetentionPolicy};
use bucket::{Bucket, Head};
use client::Failure;
use health::Health;
use keys::{decode_meta, Keys};
pub use remote::RemoteFile;
use settings::S3Settings;
pub use upload::{S3Pending, S3Sealed};

/// How many `HEAD`s a page of the listing sends at once.
const HEADS_AT_ONCE: usize = 16;

/// Files in a bucket.
#[derive(Debug)]
pub struct S3Store {
    bucket: Arc<Bucket>,
    part_bytes: usize,
    abandoned_after: Duration,
    in_flight: Gauge,
    watch: JoinHandle<()>,
}

impl S3Store {
    /// Connects to the bucket (waiting up to `store.s3.start_timeout_ms` for
    /// S3, making the bucket if so configured) and starts watching S3's
    /// health. What crashed uploads left is the sweep's (`tidy`), which also
    /// runs at start-up.
    pub async fn open(settings: &S3Settings, in_flight: Gauge) -> io::Result<Self> {
        let health = Health::new();
        let bucket = Arc::new(Bucket::new(
            client::build(settings),
            settings.bucket.clone(),
            Keys::new(&settings.prefix),
            Arc::clone(&health),
        ));
        let deadline = Instant::now() + Duration::from_millis(settings.start_timeout_ms);
        loop {
            match bucket.ensure(settings.create_bucket).await {
                Ok(()) => break,
                Err(Failure::Unreachable(why)) if Instant::now() < deadline => {
                    tracing::info!(error = %why, "waiting for S3");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(failure) => return Err(failure.into()),
            }
        }
        Ok(Self {
            watch: bucket.watch(),
            bucket,
            part_bytes: usize::try_from(settings.part_bytes).unwrap_or(usize::MAX),
            abandoned_after: settings.abandoned_after,
            in_flight,
        })
    }

    /// The readiness check's name.
    pub const READINESS_CHECK: &'static str = "s3";

    /// A callable readiness check.
    pub fn reachability(&self) -> impl Fn() -> bool + Send + Sync + 'static {
        let health = Arc::clone(self.bucket.health());
        move || health.is_reachable()
    }

    /// Every stored file with its cursor and size.
    async fn stored(&self) -> io::Result<Vec<(Cursor, u64)>> {
        let objects = self.bucket.list(self.bucket.keys.files_prefix()).await?;
        Ok(objects
            .into_iter()
            .filter_map(|object| {
                let name = self.bucket.keys.name_of(&object.key)?;
                is_stored_name(name).then(|| {
                    let cursor = Cursor {
                        nanos: object.modified_nanos,
                        name: name.to_owned(),
                    };
                    (cursor, object.size)
                })
            })
            .collect())
    }

    async fn head(&self, name: &str) -> io::Result<Option<Head>> {
        if !is_stored_name(name) {
            return Ok(None);
        }
        Ok(self.bucket.head(&self.bucket.keys.file(name)).await?)
    }
}

impl Drop for S3Store {
    fn drop(&mut self) {
        self.watch.abort();
    }
}

fn describe(name: &str, head: Head) -> Listed {
    let cursor = Cursor {
        nanos: head.modified_nanos,
        name: name.to_owned(),
    };
    let meta: Option<FileMeta> = head.meta.as_deref().and_then(decode_meta);
    listed(cursor, head.size, meta)
}

impl FileStore for S3Store {
    type Pending = S3Pending;
    type Sealed = S3Sealed;
    type Download = RemoteFile;

    async fn begin(&self) -> io::Result<S3Pending> {
        Ok(S3Pending::new(
            Arc::clone(&self.bucket),
            self.part_bytes,
            &self.in_flight,
        ))
    }

    async fn put_sealed(&self, bytes: Vec<u8>, meta: &FileMeta) -> io::Result<(S3Sealed, bool)> {
        let mut pending = self.begin().await?;
        super::file_store::PendingFile::write(&mut pending, &bytes).await?;
        super::file_store::PendingFile::seal(pending, meta).await
    }

    async fn commit(&self, files: Vec<(S3Sealed, String)>) -> io::Result<Vec<String>> {
        let mut named = Vec::with_capacity(files.len());
        for (sealed, wanted) in files {
            match naming::name(&self.bucket, sealed, &wanted).await {
                Ok(name) => named.push(name),
                Err(err) => {
                    for name in &named {
                        if let Err(failure) = self.bucket.delete(&self.bucket.keys.file(name)).await
                        {
                            tracing::warn!(name = %name, error = ?failure, "could not remove a file of a failed upload");
                        }
                    }
                    return Err(err);
                }
            }
        }
        Ok(named)
    }

    async fn list(
        &self,
        after: Option<Cursor>,
        limit: usize,
    ) -> io::Result<(Vec<Listed>, Option<Cursor>)> {
        let (found, next) = page(self.stored().await?, after.as_ref(), limit);
        let listed: Vec<Option<Listed>> = futures_util::stream::iter(found)
            .map(|(cursor, _)| async move {
                let head = self.head(&cursor.name).await?;
                // Deleted since the listing: left out.
                Ok::<_, io::Error>(head.map(|head| describe(&cursor.name, head)))
            })
            .buffered(HEADS_AT_ONCE)
            .try_collect()
            .await?;
        Ok((listed.into_iter().flatten().collect(), next))
    }

    async fn open(&self, name: &str) -> io::Result<Option<RemoteFile>> {
        let Some(head) = self.head(name).await? else {
            return Ok(None);
        };
        Ok(Some(RemoteFile::new(
            Arc::clone(&self.bucket),
            self.bucket.keys.file(name),
            &head,
        )))
    }

    async fn describe(&self, name: &str) -> io::Result<Option<Listed>> {
        Ok(self.head(name).await?.map(|head| describe(name, head)))
    }

    async fn delete(&self, name: &str) -> io::Result<Option<u64>> {
        let Some(head) = self.head(name).await? else {
            return Ok(None);
        };
        self.bucket.delete(&self.bucket.keys.file(name)).await?;
        Ok(Some(head.size))
    }

    async fn expire(&self, policy: RetentionPolicy, now: SystemTime) -> io::Result<Vec<Expired>> {
        if policy.keeps_all() {
            return Ok(Vec::new());
        }
        let mut removed = Vec::new();
        for expired in choose_from(self.stored().await?, policy, now) {
            self.bucket
                .delete(&self.bucket.keys.file(&expired.name))
                .await?;
            removed.push(expired);
        }
        Ok(removed)
    }

    async fn tidy(&self, now: SystemTime) -> io::Result<usize> {
        tidy::remove_abandoned(&self.bucket, now, self.abandoned_after).await
    }
}
