//! The filesystem store: files under `<data_dir>/uploads/`, each written
//! under a temporary name in the same folder, fsync'd with its metadata in
//! extended attributes, hard-linked to its name (which fails rather than
//! replace a file), and the folder fsync'd in groups ([`DirSync`]); or, with
//! `store.sync = "interval"`, written and named at once and made durable by
//! a background flush ([`IntervalSync`]).

use std::io;
use std::path::{Path, PathBuf};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;

use super::file_store::{FileStore, PendingFile};
use super::interval_sync::IntervalSync;
use super::listing::{describe_one, is_stored_name, list, Cursor, Listed};
use super::meta::FileMeta;
use super::retention::{choose, Expired, RetentionPolicy};
use super::{remove_leftovers, DirSync, Incoming};

/// Files in one folder.
#[derive(Debug)]
pub struct FsStore {
    dir: PathBuf,
    durability: Durability,
    /// Temporary files being written now.
    in_flight: Gauge,
}

/// When a stored file is on disk (`store.sync`).
#[derive(Debug)]
enum Durability {
    /// Before its answer: the file and the folder fsync'd (the folder in groups).
    Always(DirSync),
    /// Within `store.sync_interval_ms` of it.
    Interval(IntervalSync),
}

/// How the filesystem store makes files durable.
#[derive(Debug, Clone)]
pub enum SyncSettings {
    /// Every file and its name fsync'd before the answer.
    Always,
    /// The filesystem flushed this often while anything is unflushed;
    /// each flush counted in the counter.
    Interval(std::time::Duration, Counter),
}

impl FsStore {
    /// Opens (creating it if needed) the folder `dir`, removing what a crash
    /// left half-written; returns the store and how many such files it removed.
    pub async fn open(
        dir: PathBuf,
        in_flight: Gauge,
        sync: SyncSettings,
    ) -> io::Result<(Self, usize)> {
        tokio::fs::create_dir_all(&dir).await?;
        let leftovers = remove_leftovers(&dir).await?;
        let durability = match sync {
            SyncSettings::Always => Durability::Always(DirSync::open(&dir)?),
            SyncSettings::Interval(every, flushes) => {
                Durability::Interval(IntervalSync::start(&dir, every, flushes)?)
            }
        };
        Ok((
            Self {
                dir,
                durability,
                in_flight,
            },
            leftovers,
        ))
    }

    /// At a clean stop: what waits for the interval flush is flushed now.
    pub async fn close(&self) {
        if let Durability::Interval(sync) = &self.durability {
            sync.close().await;
        }
    }

    /// Makes the names made or removed so far durable (`always`), or marks
    /// them for the next flush (`interval`).
    async fn names_durable(&self) -> io::Result<()> {
        match &self.durability {
            Durability::Always(dir_sync) => dir_sync.sync().await,
            Durability::Interval(sync) => {
                sync.mark();
                Ok(())
            }
        }
    }

    fn fsyncs_files(&self) -> bool {
        matches!(self.durability, Durability::Always(_))
    }

    /// The folder, for readiness checks.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    async fn remove_names(&self, names: &[String]) {
        for name in names {
            if let Err(err) = tokio::fs::remove_file(self.dir.join(name)).await {
                tracing::error!(name = %name, error = %err, "could not remove a file of a failed upload");
            }
        }
    }
}

impl FileStore for FsStore {
    type Pending = Incoming;
    type Sealed = Incoming;
    /// The file's path: a regular file directly in the folder.
    type Download = PathBuf;

    async fn begin(&self) -> io::Result<Incoming> {
        let file = Incoming::create(&self.dir, &self.in_flight).await?;
        Ok(if self.fsyncs_files() {
            file
        } else {
            file.without_fsync()
        })
    }

    async fn put_sealed(&self, bytes: Vec<u8>, meta: &FileMeta) -> io::Result<(Incoming, bool)> {
        let fsync = self.fsyncs_files();
        Incoming::create_sealed(&self.dir, &self.in_flight, bytes, meta, fsync).await
    }

    async fn commit(&self, files: Vec<(Incoming, String)>) -> io::Result<Vec<String>> {
        let mut named = Vec::with_capacity(files.len());
        for (file, wanted) in files {
            match file.link(&wanted).await {
                Ok(name) => named.push(name),
                Err(err) => {
                    self.remove_names(&named).await;
                    return Err(err);
                }
            }
        }
        if !named.is_empty() {
            if let Err(err) = self.names_durable().await {
                self.remove_names(&named).await;
                return Err(err);
            }
        }
        Ok(named)
    }

    async fn list(
        &self,
        after: Option<Cursor>,
        limit: usize,
    ) -> io::Result<(Vec<Listed>, Option<Cursor>)> {
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || list(&dir, after.as_ref(), limit))
            .await
            .map_err(io::Error::other)?
    }

    async fn describe(&self, name: &str) -> io::Result<Option<Listed>> {
        let (dir, name) = (self.dir.clone(), name.to_owned());
        tokio::task::spawn_blocking(move || describe_one(&dir, &name))
            .await
            .map_err(io::Error::other)?
    }

    async fn open(&self, name: &str) -> io::Result<Option<PathBuf>> {
        if !is_stored_name(name) {
            return Ok(None);
        }
        let path = self.dir.join(name);
        // Only a regular file directly in the folder; never a link out of it.
        match tokio::fs::symlink_metadata(&path).await {
            Ok(info) if info.is_file() => Ok(Some(path)),
            Ok(_) => Ok(None),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    }

    async fn delete(&self, name: &str) -> io::Result<Option<u64>> {
        let Some(path) = self.open(name).await? else {
            return Ok(None);
        };
        let size = tokio::fs::symlink_metadata(&path)
            .await
            .map_or(0, |m| m.len());
        match tokio::fs::remove_file(&path).await {
            Ok(()) => {}
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(err),
        }
        self.names_durable().await?;
        Ok(Some(size))
    }

    async fn tidy(&self, _now: std::time::SystemTime) -> io::Result<usize> {
        // What a crash left is removed when the store opens; only this
        // machine writes in the folder's temporary names.
        Ok(0)
    }

    async fn expire(
        &self,
        policy: RetentionPolicy,
        now: std::time::SystemTime,
    ) -> io::Result<Vec<Expired>> {
        let dir = self.dir.clone();
        let removed =
            inlet_common::retention::at_low_priority(move || -> io::Result<Vec<Expired>> {
                let mut removed = Vec::new();
                for expired in choose(&dir, policy, now)? {
                    match std::fs::remove_file(dir.join(&expired.name)) {
                        Ok(()) => removed.push(expired),
                        // Deleted by a request meanwhile.
                        Err(err) if err.kind() == io::ErrorKind::NotFound => {}
                        Err(err) => return Err(err),
                    }
                }
                Ok(removed)
            })
            .await??;
        if !removed.is_empty() {
            self.names_durable().await?;
        }
        Ok(removed)
    }
}

impl PendingFile for Incoming {
    type Sealed = Incoming;

    async fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        Incoming::write(self, bytes).await
    }

    async fn seal(mut self, meta: &FileMeta) -> io::Result<(Incoming, bool)> {
        let kept = Incoming::seal(&mut self, meta).await?;
        Ok((self, kept))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> FileMeta {
        FileMeta::new("a.txt", "f", "00".repeat(32), "now".into())
    }

    async fn stored(store: &FsStore, name: &str, bytes: &[u8]) -> String {
        let mut file = store.begin().await.unwrap();
        PendingFile::write(&mut file, bytes).await.unwrap();
        let (sealed, _) = PendingFile::seal(file, &meta()).await.unwrap();
        store
            .commit(vec![(sealed, name.to_owned())])
            .await
            .unwrap()
            .remove(0)
    }

    #[tokio::test]
    async fn a_taken_name_is_never_replaced_and_delete_removes_only_stored_files() {
        let dir = tempfile::tempdir().unwrap();
        let (store, leftovers) =
            FsStore::open(dir.path().join("u"), Gauge::default(), SyncSettings::Always)
                .await
                .unwrap();
        assert_eq!(leftovers, 0);
        assert_eq!(stored(&store, "a.txt", b"one").await, "a.txt");
        assert_eq!(stored(&store, "a.txt", b"two").await, "a-2.txt");
        assert_eq!(std::fs::read(store.dir().join("a.txt")).unwrap(), b"one");
        let (listed, next) = store.list(None, 10).await.unwrap();
        assert_eq!(listed.len(), 2);
        assert!(next.is_none());

        assert!(store.open("a-2.txt").await.unwrap().is_some());
        assert!(store.open("../u/a.txt").await.unwrap().is_none());
        assert_eq!(store.delete("a-2.txt").await.unwrap(), Some(3));
        assert_eq!(store.delete("a-2.txt").await.unwrap(), None, "idempotent");
        assert_eq!(store.delete("..").await.unwrap(), None);
        assert!(store.open("a-2.txt").await.unwrap().is_none());
        assert_eq!(std::fs::read(store.dir().join("a.txt")).unwrap(), b"one");
    }

    #[tokio::test]
    async fn a_dropped_file_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = FsStore::open(
            dir.path().to_owned(),
            Gauge::default(),
            SyncSettings::Always,
        )
        .await
        .unwrap();
        let mut file = store.begin().await.unwrap();
        PendingFile::write(&mut file, b"half").await.unwrap();
        drop(file);
        let (sealed, _) = store.put_sealed(b"whole".to_vec(), &meta()).await.unwrap();
        drop(sealed);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
