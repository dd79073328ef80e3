//! The bucket: each S3 request the store makes, its error sorted
//! ([`Failure`]) and its outcome told to [`Health`].

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_s3::primitives::{ByteStream, DateTime};
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use aws_sdk_s3::Client;
use tokio::task::JoinHandle;

use super::client::Failure;
use super::health::Health;
use super::keys::{Keys, META_KEY};

/// How often the store asks S3 whether it is there.
pub const PING_EVERY: Duration = Duration::from_secs(2);

/// What a `HEAD` of a key tells.
#[derive(Debug, Clone)]
pub struct Head {
    /// Its size in bytes.
    pub size: u64,
    /// When it was stored, in nanoseconds since the epoch.
    pub modified_nanos: u128,
    /// Its entity tag, quoted as S3 gives it.
    pub etag: Option<String>,
    /// Its encoded metadata, if it has any.
    pub meta: Option<String>,
}

/// One listed object.
#[derive(Debug, Clone)]
pub struct Object {
    /// Its key.
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
    /// When it was stored, in nanoseconds since the epoch.
    pub modified_nanos: u128,
}

/// One multipart upload not yet completed or aborted.
#[derive(Debug, Clone)]
pub struct OpenUpload {
    /// The key it is for.
    pub key: String,
    /// Its id.
    pub upload_id: String,
    /// When it was started, in nanoseconds since the epoch.
    pub initiated_nanos: u128,
}

/// A bucket and the key layout in it.
#[derive(Debug)]
pub struct Bucket {
    client: Client,
    name: String,
    /// Where things are in it.
    pub keys: Keys,
    health: Arc<Health>,
}

impl Bucket {
    /// The bucket `name` through `client`.
    pub fn new(client: Client, name: String, keys: Keys, health: Arc<Health>) -> Self {
        Self {
            client,
            name,
            keys,
            health,
        }
    }

    /// Whether S3 answered the last request.
    pub fn health(&self) -> &Arc<Health> {
        &self.health
    }

    fn seen<T>(&self, outcome: Result<T, Failure>) -> Result<T, Failure> {
        self.health.record(&outcome);
        outcome
    }

    /// Makes sure the bucket is there, making it if `create` and it is not.
    pub async fn ensure(&self, create: bool) -> Result<(), Failure> {
        let found = self
            .client
            .head_bucket()
            .bucket(&self.name)
            .send()
            .await
            .map_err(Failure::of);
        match self.seen(found) {
            Ok(_) => Ok(()),
            Err(Failure::Missing) if create => {
                let made = self
                    .client
                    .create_bucket()
                    .bucket(&self.name)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(Failure::of);
                match self.seen(made) {
                    // Another replica made it first.
                    Err(Failure::Conflict) => Ok(()),
                    other => other,
                }
            }
            Err(Failure::Missing) => Err(Failure::Other(format!(
                "the bucket {:?} does not exist (set store.s3.create_bucket = true to make it)",
                self.name
            ))),
            Err(other) => Err(other),
        }
    }

    /// Stores `body` under `key` only if nothing is there (`If-None-Match: *`):
    /// `false` when the key is taken.
    pub async fn put_new(
        &self,
        key: &str,
        body: bytes::Bytes,
        meta: Option<&str>,
    ) -> Result<bool, Failure> {
        let mut put = self
            .client
            .put_object()
            .bucket(&self.name)
            .key(key)
            .if_none_match("*")
            .body(ByteStream::from(body));
        if let Some(meta) = meta {
            put = put.metadata(META_KEY, meta);
        }
        let outcome = put.send().await.map(|_| ()).map_err(Failure::of);
        taken_is_false(self.seen(outcome))
    }

    /// Starts a multipart upload to `key`; returns its id.
    pub async fn start_upload(&self, key: &str, meta: Option<&str>) -> Result<String, Failure> {
        let mut start = self
            .client
            .create_multipart_upload()
            .bucket(&self.name)
            .key(key);
        if let Some(meta) = meta {
            start = start.metadata(META_KEY, meta);
        }
        let outcome = start.send().await.map_err(Failure::of).and_then(|out| {
            out.upload_id()
                .map(str::to_owned)
                .ok_or_else(|| Failure::Other("S3 gave no upload id".into()))
        });
        self.seen(outcome)
    }

    /// Sends part `number` of an upload.
    pub async fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        number: i32,
        body: Vec<u8>,
    ) -> Result<CompletedPart, Failure> {
        let outcome = self
            .client
            .upload_part()
            .bucket(&self.name)
            .key(key)
            .upload_id(upload_id)
            .part_number(number)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(Failure::of)
            .map(|out| {
                CompletedPart::builder()
                    .part_number(number)
                    .set_e_tag(out.e_tag().map(str::to_owned))
                    .build()
            });
        self.seen(outcome)
    }

    /// Copies bytes `first..=last` of `source` as part `number` of an upload.
    pub async fn copy_part(
        &self,
        key: &str,
        upload_id: &str,
        number: i32,
        source: &str,
        (first, last): (u64, u64),
    ) -> Result<CompletedPart, Failure> {
        let outcome = self
            .client
            .upload_part_copy()
            .bucket(&self.name)
            .key(key)
            .upload_id(upload_id)
            .part_number(number)
            .copy_source(format!("{}/{source}", self.name))
            .copy_source_range(format!("bytes={first}-{last}"))
            .send()
            .await
            .map_err(Failure::of)
            .map(|out| {
                CompletedPart::builder()
                    .part_number(number)
                    .set_e_tag(
                        out.copy_part_result()
                            .and_then(|r| r.e_tag())
                            .map(str::to_owned),
                    )
                    .build()
            });
        self.seen(outcome)
    }

    /// Completes an upload from its `parts`; with `only_if_new`, only if
    /// nothing is at `key` yet (`false` when it is taken).
    pub async fn complete(
        &self,
        key: &str,
        upload_id: &str,
        parts: Vec<CompletedPart>,
        only_if_new: bool,
    ) -> Result<bool, Failure> {
        let mut complete = self
            .client
            .complete_multipart_upload()
            .bucket(&self.name)
            .key(key)
            .upload_id(upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            );
        if only_if_new {
            complete = complete.if_none_match("*");
        }
        let outcome = complete.send().await.map(|_| ()).map_err(Failure::of);
        taken_is_false(self.seen(outcome))
    }

    /// Aborts an upload, dropping its parts; an upload already gone is fine.
    pub async fn abort(&self, key: &str, upload_id: &str) -> Result<(), Failure> {
        let outcome = self
            .client
            .abort_multipart_upload()
            .bucket(&self.name)
            .key(key)
            .upload_id(upload_id)
            .send()
            .await
            .map(|_| ())
            .map_err(Failure::of);
        match self.seen(outcome) {
            Err(Failure::Missing) => Ok(()),
            other => other,
        }
    }

    /// What is at `key`, or `None`.
    pub async fn head(&self, key: &str) -> Result<Option<Head>, Failure> {
        let outcome = self
            .client
            .head_object()
            .bucket(&self.name)
            .key(key)
            .send()
            .await
            .map_err(Failure::of)
            .map(|out| Head {
                size: out.content_length().unwrap_or(0).max(0) as u64,
                modified_nanos: out.last_modified().map_or(0, nanos),
                etag: out.e_tag().map(str::to_owned),
                meta: out.metadata().and_then(|m| m.get(META_KEY)).cloned(),
            });
        match self.seen(outcome) {
            Ok(head) => Ok(Some(head)),
            Err(Failure::Missing) => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// Removes `key` (nothing there is fine).
    pub async fn delete(&self, key: &str) -> Result<(), Failure> {
        let outcome = self
            .client
            .delete_object()
            .bucket(&self.name)
            .key(key)
            .send()
            .await
            .map(|_| ())
            .map_err(Failure::of);
        match self.seen(outcome) {
            Err(Failure::Missing) => Ok(()),
            other => other,
        }
    }

    /// Every object whose key starts with `prefix`.
    pub async fn list(&self, prefix: &str) -> Result<Vec<Object>, Failure> {
        let mut found = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let outcome = self
                .client
                .list_objects_v2()
                .bucket(&self.name)
                .prefix(prefix)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(Failure::of);
            let page = self.seen(outcome)?;
            found.extend(page.contents().iter().filter_map(|object| {
                Some(Object {
                    key: object.key()?.to_owned(),
                    size: object.size().unwrap_or(0).max(0) as u64,
                    modified_nanos: object.last_modified().map_or(0, nanos),
                })
            }));
            match page.next_continuation_token() {
                Some(next) if page.is_truncated() == Some(true) => token = Some(next.to_owned()),
                _ => return Ok(found),
            }
        }
    }

    /// Every multipart upload under `prefix` not completed or aborted.
    pub async fn open_uploads(&self, prefix: &str) -> Result<Vec<OpenUpload>, Failure> {
        let mut found = Vec::new();
        let mut markers: (Option<String>, Option<String>) = (None, None);
        loop {
            let outcome = self
                .client
                .list_multipart_uploads()
                .bucket(&self.name)
                .prefix(prefix)
                .set_key_marker(markers.0.take())
                .set_upload_id_marker(markers.1.take())
                .send()
                .await
                .map_err(Failure::of);
            let page = self.seen(outcome)?;
            found.extend(page.uploads().iter().filter_map(|upload| {
                Some(OpenUpload {
                    key: upload.key()?.to_owned(),
                    upload_id: upload.upload_id()?.to_owned(),
                    initiated_nanos: upload.initiated().map_or(0, nanos),
                })
            }));
            if page.is_truncated() != Some(true) {
                return Ok(found);
            }
            markers = (
                page.next_key_marker().map(str::to_owned),
                page.next_upload_id_marker().map(str::to_owned),
            );
            if markers.0.is_none() {
                return Ok(found);
            }
        }
    }

    /// The bytes of `key`, all or `first..=last`.
    pub async fn get(&self, key: &str, range: Option<(u64, u64)>) -> Result<ByteStream, Failure> {
        let outcome = self
            .client
            .get_object()
            .bucket(&self.name)
            .key(key)
            .set_range(range.map(|(first, last)| format!("bytes={first}-{last}")))
            .send()
            .await
            .map(|out| out.body)
            .map_err(Failure::of);
        self.seen(outcome)
    }
}

impl Bucket {
    /// Asks S3 for the bucket every [`PING_EVERY`] until aborted, so that
    /// health is known when no request comes.
    pub fn watch(self: &Arc<Self>) -> JoinHandle<()> {
        let bucket = Arc::clone(self);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(PING_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                // The outcome is recorded as every request's is.
                let _ = bucket.ensure(false).await;
            }
        })
    }
}

/// A conditional write's outcome: `412` is "taken", not a failure.
fn taken_is_false(outcome: Result<(), Failure>) -> Result<bool, Failure> {
    match outcome {
        Ok(()) => Ok(true),
        Err(Failure::Taken) => Ok(false),
        Err(other) => Err(other),
    }
}

fn nanos(at: &DateTime) -> u128 {
    (at.secs().max(0) as u128) * 1_000_000_000 + u128::from(at.subsec_nanos())
}
