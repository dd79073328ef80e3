//! Giving a sealed file its name in the bucket: the wanted name or the
//! first free numbered variant, each tried with a create that S3 refuses
//! (`412`) when the key is taken, so no file is ever replaced.

use std::io;

use super::bucket::Bucket;
use super::client::Failure;
use super::upload::{S3Sealed, SealedBody};
use crate::store::names::{numbered, MAX_NAME_ATTEMPTS};

/// Copies of large files go in parts of this size (S3 allows up to 5 GiB).
const COPY_PART_BYTES: u64 = 1024 * 1024 * 1024;

/// How often a `409` (a concurrent conditional write) is tried again.
const CONFLICT_RETRIES: u32 = 3;

/// Names `sealed` `wanted`, or its first free variant; returns the name.
pub async fn name(bucket: &Bucket, mut sealed: S3Sealed, wanted: &str) -> io::Result<String> {
    let Some(body) = sealed.take_body() else {
        return Err(io::Error::other("a sealed file was named twice"));
    };
    let meta = sealed.meta().map(str::to_owned);
    for attempt in 1..=MAX_NAME_ATTEMPTS {
        let candidate = numbered(wanted, attempt);
        let key = bucket.keys.file(&candidate);
        let mut conflicts = 0;
        let created = loop {
            let outcome = match &body {
                SealedBody::Small(bytes) => {
                    bucket.put_new(&key, bytes.clone(), meta.as_deref()).await
                }
                SealedBody::Staged { key: from, size } => {
                    copy_new(bucket, from, *size, &key, meta.as_deref()).await
                }
            };
            match outcome {
                Err(Failure::Conflict) if conflicts < CONFLICT_RETRIES => conflicts += 1,
                Err(failure) => {
                    sealed.put_back(body);
                    return Err(failure.into());
                }
                Ok(created) => break created,
            }
        };
        if created {
            if let SealedBody::Staged { key: from, .. } = &body {
                if let Err(failure) = bucket.delete(from).await {
                    tracing::warn!(key = %from, error = ?failure, "could not delete a staging object; the sweep will");
                }
            }
            return Ok(candidate);
        }
    }
    sealed.put_back(body);
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("{MAX_NAME_ATTEMPTS} files are already named like {wanted}"),
    ))
}

/// Copies the staging object `from` (`size` bytes) to `to`, server-side,
/// only if nothing is at `to`: `false` when it is taken. A taken name is
/// seen by a `HEAD` first, so a long copy is not made in vain.
async fn copy_new(
    bucket: &Bucket,
    from: &str,
    size: u64,
    to: &str,
    meta: Option<&str>,
) -> Result<bool, Failure> {
    if bucket.head(to).await?.is_some() {
        return Ok(false);
    }
    let upload_id = bucket.start_upload(to, meta).await?;
    let copied = async {
        let mut parts = Vec::new();
        let mut first = 0;
        while first < size {
            let last = (first + COPY_PART_BYTES).min(size) - 1;
            let number = parts.len() as i32 + 1;
            parts.push(
                bucket
                    .copy_part(to, &upload_id, number, from, (first, last))
                    .await?,
            );
            first = last + 1;
        }
        bucket.complete(to, &upload_id, parts, true).await
    }
    .await;
    if !matches!(copied, Ok(true)) {
        if let Err(failure) = bucket.abort(to, &upload_id).await {
            tracing::warn!(key = %to, error = ?failure, "could not abort a copy; the sweep will");
        }
    }
    copied
}
