//! A stored file in the bucket, as the download route serves it.

use std::io;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures_util::Stream;

use super::bucket::{Bucket, Head};

/// One stored object: what a `HEAD` said, and the means to read it.
#[derive(Debug)]
pub struct RemoteFile {
    bucket: Arc<Bucket>,
    key: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its entity tag, quoted.
    pub etag: Option<String>,
    /// When it was stored.
    pub modified: SystemTime,
}

impl RemoteFile {
    pub(super) fn new(bucket: Arc<Bucket>, key: String, head: &Head) -> Self {
        Self {
            bucket,
            key,
            size: head.size,
            etag: head.etag.clone(),
            modified: UNIX_EPOCH + Duration::from_nanos(head.modified_nanos as u64),
        }
    }

    /// Its bytes, all or `first..=last`, as they come from S3.
    pub async fn bytes(
        &self,
        range: Option<(u64, u64)>,
    ) -> io::Result<impl Stream<Item = io::Result<Bytes>> + 'static> {
        let body = self.bucket.get(&self.key, range).await?;
        Ok(futures_util::stream::unfold(body, |mut body| async move {
            let chunk = body.next().await?;
            Some((chunk.map_err(io::Error::other), body))
        }))
    }
}
