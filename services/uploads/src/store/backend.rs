//! The store the service runs: the volume (`store.backend = "volume"`, the
//! default) or an S3 bucket (`"s3"`), behind the one [`FileStore`] seam.

use std::io;
use std::time::SystemTime;

use std::path::PathBuf;

use super::file_store::{FileStore, PendingFile};
use super::listing::{Cursor, Listed};
use super::meta::FileMeta;
use super::retention::{Expired, RetentionPolicy};
use super::s3::{RemoteFile, S3Pending, S3Sealed, S3Store};
use super::{FsStore, Incoming};

/// Where this service keeps files.
#[derive(Debug)]
pub enum Store {
    /// Files in a folder of the data volume.
    Volume(FsStore),
    /// Objects in an S3 bucket.
    S3(S3Store),
}

/// A file being written to [`Store`].
#[derive(Debug)]
pub enum Pending {
    /// To the volume.
    Volume(Incoming),
    /// To the bucket.
    S3(S3Pending),
}

/// A whole file waiting for its name in [`Store`].
#[derive(Debug)]
pub enum Sealed {
    /// On the volume.
    Volume(Incoming),
    /// In the bucket.
    S3(S3Sealed),
}

/// A stored file as the download route serves it.
#[derive(Debug)]
pub enum Download {
    /// A regular file on this machine's filesystem (served with Range and
    /// ETag by actix-files).
    Local(PathBuf),
    /// An object in S3 (served with Range and ETag by the download route).
    Remote(RemoteFile),
}

impl Store {
    /// At a clean stop: what the volume's interval flush owes is flushed.
    pub async fn close(&self) {
        if let Store::Volume(store) = self {
            store.close().await;
        }
    }
}

fn mixed() -> io::Error {
    io::Error::other("a file sealed by one store was given to another")
}

impl FileStore for Store {
    type Pending = Pending;
    type Sealed = Sealed;
    type Download = Download;

    async fn begin(&self) -> io::Result<Pending> {
        Ok(match self {
            Store::Volume(store) => Pending::Volume(store.begin().await?),
            Store::S3(store) => Pending::S3(store.begin().await?),
        })
    }

    async fn put_sealed(&self, bytes: Vec<u8>, meta: &FileMeta) -> io::Result<(Sealed, bool)> {
        Ok(match self {
            Store::Volume(store) => {
                let (sealed, kept) = store.put_sealed(bytes, meta).await?;
                (Sealed::Volume(sealed), kept)
            }
            Store::S3(store) => {
                let (sealed, kept) = store.put_sealed(bytes, meta).await?;
                (Sealed::S3(sealed), kept)
            }
        })
    }

    async fn commit(&self, files: Vec<(Sealed, String)>) -> io::Result<Vec<String>> {
        match self {
            Store::Volume(store) => {
                let files = files
                    .into_iter()
                    .map(|(sealed, name)| match sealed {
                        Sealed::Volume(file) => Ok((file, name)),
                        Sealed::S3(_) => Err(mixed()),
                    })
                    .collect::<io::Result<_>>()?;
                store.commit(files).await
            }
            Store::S3(store) => {
                let files = files
                    .into_iter()
                    .map(|(sealed, name)| match sealed {
                        Sealed::S3(file) => Ok((file, name)),
                        Sealed::Volume(_) => Err(mixed()),
                    })
                    .collect::<io::Result<_>>()?;
                store.commit(files).await
            }
        }
    }

    async fn list(
        &self,
        after: Option<Cursor>,
        limit: usize,
    ) -> io::Result<(Vec<Listed>, Option<Cursor>)> {
        match self {
            Store::Volume(store) => store.list(after, limit).await,
            Store::S3(store) => store.list(after, limit).await,
        }
    }

    async fn open(&self, name: &str) -> io::Result<Option<Download>> {
        match self {
            Store::Volume(store) => Ok(store.open(name).await?.map(Download::Local)),
            Store::S3(store) => Ok(store.open(name).await?.map(Download::Remote)),
        }
    }

    async fn describe(&self, name: &str) -> io::Result<Option<Listed>> {
        match self {
            Store::Volume(store) => store.describe(name).await,
            Store::S3(store) => store.describe(name).await,
        }
    }

    async fn delete(&self, name: &str) -> io::Result<Option<u64>> {
        match self {
            Store::Volume(store) => store.delete(name).await,
            Store::S3(store) => store.delete(name).await,
        }
    }

    async fn tidy(&self, now: SystemTime) -> io::Result<usize> {
        match self {
            Store::Volume(store) => store.tidy(now).await,
            Store::S3(store) => store.tidy(now).await,
        }
    }

    async fn expire(&self, policy: RetentionPolicy, now: SystemTime) -> io::Result<Vec<Expired>> {
        match self {
            Store::Volume(store) => store.expire(policy, now).await,
            Store::S3(store) => store.expire(policy, now).await,
        }
    }
}

impl PendingFile for Pending {
    type Sealed = Sealed;

    async fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Pending::Volume(file) => PendingFile::write(file, bytes).await,
            Pending::S3(file) => file.write(bytes).await,
        }
    }

    async fn seal(self, meta: &FileMeta) -> io::Result<(Sealed, bool)> {
        Ok(match self {
            Pending::Volume(file) => {
                let (sealed, kept) = PendingFile::seal(file, meta).await?;
                (Sealed::Volume(sealed), kept)
            }
            Pending::S3(file) => {
                let (sealed, kept) = file.seal(meta).await?;
                (Sealed::S3(sealed), kept)
            }
        })
    }
}
