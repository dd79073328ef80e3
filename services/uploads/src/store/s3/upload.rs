//! A file on its way into the bucket. Once a file reaches
//! `store.s3.part_bytes` it streams to a staging key as a multipart upload,
//! one part sent while the next fills, and sealing completes that upload; a
//! smaller one is sealed by one `PutObject` to a staging key, or, up to
//! [`HELD_UP_TO`], kept in memory until it is named. Dropped before it is
//! sealed, the upload is aborted; a sealed staging object dropped before it
//! is named is deleted.

use std::io;
use std::sync::Arc;

use aws_sdk_s3::types::CompletedPart;
use prometheus_client::metrics::gauge::Gauge;
use tokio::task::JoinHandle;

use super::bucket::Bucket;
use super::client::Failure;
use super::keys::encode_meta;
use crate::store::file_store::PendingFile;
use crate::store::meta::FileMeta;

/// A sealed file up to this size waits for its name in memory (and is then
/// stored in one request); a larger one waits in a staging object, so a
/// request of many files holds at most this much of each, as the volume
/// store does.
pub const HELD_UP_TO: usize = 64 * 1024;

/// Counts a file being received until it is dropped.
#[derive(Debug)]
pub struct InFlight(Gauge);

impl InFlight {
    /// One more file in flight.
    pub fn new(gauge: &Gauge) -> Self {
        gauge.inc();
        Self(gauge.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// A file being written to the bucket.
#[derive(Debug)]
pub struct S3Pending {
    bucket: Arc<Bucket>,
    part_bytes: usize,
    buffer: Vec<u8>,
    staging: Option<Staging>,
    in_flight: InFlight,
}

/// A multipart upload to a staging key, under way.
#[derive(Debug)]
struct Staging {
    key: String,
    upload_id: String,
    parts: Vec<CompletedPart>,
    sending: Option<JoinHandle<Result<CompletedPart, Failure>>>,
    next_number: i32,
    size: u64,
}

/// A whole file waiting for its name.
#[derive(Debug)]
pub struct S3Sealed {
    bucket: Arc<Bucket>,
    body: Option<SealedBody>,
    meta: Option<String>,
    _in_flight: InFlight,
}

/// Where a sealed file's bytes are.
#[derive(Debug)]
pub enum SealedBody {
    /// In memory, to be stored in one request.
    Small(bytes::Bytes),
    /// A complete staging object, to be copied to its name.
    Staged {
        /// The staging key.
        key: String,
        /// Its size in bytes.
        size: u64,
    },
}

impl S3Pending {
    /// A new, empty file.
    pub fn new(bucket: Arc<Bucket>, part_bytes: usize, in_flight: &Gauge) -> Self {
        Self {
            bucket,
            part_bytes,
            buffer: Vec::new(),
            staging: None,
            in_flight: InFlight::new(in_flight),
        }
    }

    /// Sends what is buffered as the next part, after the part before it
    /// has gone (so at most two parts are in memory).
    async fn send_part(&mut self) -> Result<(), Failure> {
        if self.staging.is_none() {
            let key = self.bucket.keys.new_incoming();
            let upload_id = self.bucket.start_upload(&key, None).await?;
            self.staging = Some(Staging {
                key,
                upload_id,
                parts: Vec::new(),
                sending: None,
                next_number: 1,
                size: 0,
            });
        }
        let Some(staging) = self.staging.as_mut() else {
            unreachable!("started above");
        };
        staging.wait_for_sent().await?;
        let body = std::mem::take(&mut self.buffer);
        staging.size += body.len() as u64;
        let (bucket, key, upload_id) = (
            Arc::clone(&self.bucket),
            staging.key.clone(),
            staging.upload_id.clone(),
        );
        let number = staging.next_number;
        staging.next_number += 1;
        staging.sending = Some(tokio::spawn(async move {
            bucket.upload_part(&key, &upload_id, number, body).await
        }));
        Ok(())
    }
}

impl Staging {
    async fn wait_for_sent(&mut self) -> Result<(), Failure> {
        if let Some(sending) = self.sending.take() {
            let part = sending
                .await
                .map_err(|err| Failure::Other(format!("a part upload stopped: {err}")))??;
            self.parts.push(part);
        }
        Ok(())
    }
}

impl PendingFile for S3Pending {
    type Sealed = S3Sealed;

    async fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= self.part_bytes {
            self.send_part().await?;
        }
        Ok(())
    }

    async fn seal(mut self, meta: &FileMeta) -> io::Result<(S3Sealed, bool)> {
        let encoded = encode_meta(meta);
        let kept = encoded.is_some();
        let body = match self.staging.is_some() {
            false if self.buffer.len() <= HELD_UP_TO => {
                SealedBody::Small(std::mem::take(&mut self.buffer).into())
            }
            false => {
                let bytes = bytes::Bytes::from(std::mem::take(&mut self.buffer));
                let size = bytes.len() as u64;
                let key = self.bucket.keys.new_incoming();
                if !self.bucket.put_new(&key, bytes, None).await? {
                    return Err(io::Error::other("a new staging key was already taken"));
                }
                SealedBody::Staged { key, size }
            }
            true => {
                if !self.buffer.is_empty() {
                    self.send_part().await?;
                }
                let Some(staging) = self.staging.as_mut() else {
                    unreachable!("checked above");
                };
                staging.wait_for_sent().await?;
                let parts = std::mem::take(&mut staging.parts);
                self.bucket
                    .complete(&staging.key, &staging.upload_id, parts, false)
                    .await?;
                let Some(Staging { key, size, .. }) = self.staging.take() else {
                    unreachable!("checked above");
                };
                SealedBody::Staged { key, size }
            }
        };
        let sealed = S3Sealed {
            bucket: Arc::clone(&self.bucket),
            body: Some(body),
            meta: encoded,
            _in_flight: InFlight::new(&self.in_flight.0),
        };
        Ok((sealed, kept))
    }
}

impl Drop for S3Pending {
    fn drop(&mut self) {
        let Some(mut staging) = self.staging.take() else {
            return;
        };
        let bucket = Arc::clone(&self.bucket);
        spawn_cleanup(async move {
            // A part still being sent could outlive an abort that came first.
            let _ = staging.wait_for_sent().await;
            if let Err(err) = bucket.abort(&staging.key, &staging.upload_id).await {
                tracing::warn!(key = %staging.key, error = ?err, "could not abort the multipart upload of a refused or cut file; the sweep will");
            }
        });
    }
}

impl S3Sealed {
    /// Its bytes (taken: a sealed file is named once).
    pub fn take_body(&mut self) -> Option<SealedBody> {
        self.body.take()
    }

    /// Puts back a staged body whose naming failed, so dropping deletes it.
    pub fn put_back(&mut self, body: SealedBody) {
        self.body = Some(body);
    }

    /// Its encoded metadata, if it fits.
    pub fn meta(&self) -> Option<&str> {
        self.meta.as_deref()
    }
}

impl Drop for S3Sealed {
    fn drop(&mut self) {
        let Some(SealedBody::Staged { key, .. }) = self.body.take() else {
            return;
        };
        let bucket = Arc::clone(&self.bucket);
        spawn_cleanup(async move {
            if let Err(err) = bucket.delete(&key).await {
                tracing::warn!(key = %key, error = ?err, "could not delete the staging object of an unnamed file; the sweep will");
            }
        });
    }
}

/// Runs `cleanup` in the background, if there is a runtime to run it (the
/// sweep removes what is left otherwise).
fn spawn_cleanup(cleanup: impl std::future::Future<Output = ()> + Send + 'static) {
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(cleanup);
    }
}
