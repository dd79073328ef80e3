//! What crashed uploads leave in the bucket: multipart uploads never
//! completed or aborted, and staging objects never named. Only what is
//! older than `store.s3.abandoned_after` is removed, so another replica's
//! upload under way is left alone.

use std::io;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::bucket::Bucket;

/// Aborts every open multipart upload and deletes every staging object
/// older than `abandoned_after` as of `now`; returns how many.
pub async fn remove_abandoned(
    bucket: &Bucket,
    now: SystemTime,
    abandoned_after: Duration,
) -> io::Result<usize> {
    let cutoff = now
        .checked_sub(abandoned_after)
        .and_then(|at| at.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |since| since.as_nanos());
    let mut removed = 0;
    // Staging uploads and copies to a name alike: everything under the prefix.
    for upload in bucket.open_uploads(bucket.keys.root()).await? {
        if upload.initiated_nanos < cutoff {
            bucket.abort(&upload.key, &upload.upload_id).await?;
            tracing::info!(key = %upload.key, "aborted a multipart upload a crash left behind");
            removed += 1;
        }
    }
    for object in bucket.list(bucket.keys.incoming_prefix()).await? {
        if object.modified_nanos < cutoff {
            bucket.delete(&object.key).await?;
            tracing::info!(key = %object.key, "deleted a staging object a crash left behind");
            removed += 1;
        }
    }
    Ok(removed)
}
