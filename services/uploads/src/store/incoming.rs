//! A file being received: written under a temporary name in the uploads
//! folder (so the final rename stays on one filesystem), sealed (metadata
//! attached, fsync'd), then linked to its final name, which never replaces a
//! file already there. Dropped before it is linked — a client gone mid-file,
//! a refused body, a full disk — it leaves nothing behind.

use std::io;
use std::path::{Path, PathBuf};

use prometheus_client::metrics::gauge::Gauge;
use tokio::fs::{self, File, OpenOptions};
use tokio::io::AsyncWriteExt;

#[cfg(test)]
use super::dir_sync::DirSync;
use super::meta::{self, FileMeta};
use super::names::{numbered, MAX_NAME_ATTEMPTS};

/// Temporary files start with this, so listings and start-up cleaning know them.
pub const INCOMING_PREFIX: &str = ".incoming-";

/// A temporary file another machine left is removed only after this long:
/// replicas sharing the folder may be writing theirs (no upload takes a day).
pub const STALE_INCOMING: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// A new temporary name: `.incoming-<uuid>.<machine>`, so that a starting
/// replica knows its own leftovers from another's files under way.
fn temp_name() -> String {
    format!(
        "{INCOMING_PREFIX}{}.{}",
        uuid::Uuid::now_v7().simple(),
        this_machine()
    )
}

/// This machine's name as it ends temporary names (`.` and `/` made `-`).
pub fn this_machine() -> &'static str {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(|| {
        inlet_common::machine::name()
            .unwrap_or_else(|| "unknown".to_owned())
            .replace(['.', '/'], "-")
    })
}

/// After this many bytes, what was written is flushed to disk in the
/// background while more arrives, so a large file's final fsync has little
/// left to do and the disk is busy from the start.
const FLUSH_EVERY: u64 = 16 * 1024 * 1024;

/// A file being received.
#[derive(Debug)]
pub struct Incoming {
    /// The folder it will be committed into.
    dir: PathBuf,
    /// Where its bytes are until then.
    temp: PathBuf,
    /// Open for writing; `None` once sealed.
    file: Option<File>,
    /// The temporary name is gone (the file was linked).
    unlinked: bool,
    /// Bytes written so far.
    len: u64,
    /// Bytes written since the last background flush started.
    unflushed: u64,
    /// The running background flush, if any.
    flushing: Option<tokio::task::JoinHandle<io::Result<()>>>,
    /// Temporary files in flight, one of which this is until dropped.
    in_flight: Gauge,
    /// Whether sealing fsyncs the file (`store.sync = "always"`); without,
    /// the interval flush makes it durable.
    fsync: bool,
}

impl Incoming {
    /// Starts a new file in `dir`, counted in `in_flight` until dropped.
    pub async fn create(dir: &Path, in_flight: &Gauge) -> io::Result<Self> {
        let temp = dir.join(temp_name());
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .await?;
        Ok(Self {
            dir: dir.to_owned(),
            temp,
            file: Some(file),
            unlinked: false,
            len: 0,
            unflushed: 0,
            flushing: None,
            in_flight: {
                in_flight.inc();
                in_flight.clone()
            },
            fsync: true,
        })
    }

    /// Seals without fsyncing the file, for `store.sync = "interval"`.
    pub fn without_fsync(mut self) -> Self {
        self.fsync = false;
        self
    }

    /// Writes the whole file `bytes` with `meta` in one go (one blocking
    /// call: create, write, attach, fsync): it comes back sealed. Returns
    /// whether the metadata was kept, as [`Incoming::seal`] does.
    /// Without `fsync`, the file is not fsync'd (`store.sync = "interval"`).
    pub async fn create_sealed(
        dir: &Path,
        in_flight: &Gauge,
        bytes: Vec<u8>,
        meta: &FileMeta,
        fsync: bool,
    ) -> io::Result<(Self, bool)> {
        let temp = dir.join(temp_name());
        in_flight.inc();
        let this = Self {
            dir: dir.to_owned(),
            temp: temp.clone(),
            file: None,
            unlinked: false,
            len: bytes.len() as u64,
            unflushed: 0,
            flushing: None,
            in_flight: in_flight.clone(),
            fsync,
        };
        let meta = meta.clone();
        let kept = tokio::task::spawn_blocking(move || {
            use std::io::Write as _;
            let mut file = std::fs::File::options()
                .write(true)
                .create_new(true)
                .open(&temp)?;
            file.write_all(&bytes)?;
            let kept = meta::write(&file, &meta)?;
            if fsync {
                file.sync_all()?;
            }
            Ok::<_, io::Error>(kept)
        })
        .await
        .map_err(io::Error::other)??;
        // On a failure above, dropping `this` removed whatever was created.
        Ok((this, kept))
    }

    /// Appends `bytes`.
    pub async fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        let file = self.file.as_mut().ok_or_else(sealed)?;
        file.write_all(bytes).await?;
        self.len += bytes.len() as u64;
        self.unflushed += bytes.len() as u64;
        if self.fsync && self.unflushed >= FLUSH_EVERY {
            self.flush_in_background().await?;
        }
        Ok(())
    }

    /// Starts an fdatasync of what was written so far, unless one still runs.
    async fn flush_in_background(&mut self) -> io::Result<()> {
        if self.flushing.as_ref().is_some_and(|f| !f.is_finished()) {
            return Ok(());
        }
        self.finish_flush().await?;
        let file = self.file.as_mut().ok_or_else(sealed)?;
        let handle = file.try_clone().await?.into_std().await;
        self.flushing = Some(tokio::task::spawn_blocking(move || handle.sync_data()));
        self.unflushed = 0;
        Ok(())
    }

    /// Waits for a background flush and reports its failure (a full disk may
    /// show here first).
    async fn finish_flush(&mut self) -> io::Result<()> {
        match self.flushing.take() {
            Some(flush) => flush.await.map_err(io::Error::other)?,
            None => Ok(()),
        }
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Attaches `meta` and makes bytes and metadata durable; after this no
    /// more bytes can be written. Returns `false` if the filesystem keeps no
    /// metadata (the file is still kept).
    pub async fn seal(&mut self, meta: &FileMeta) -> io::Result<bool> {
        self.finish_flush().await?;
        let mut file = self.file.take().ok_or_else(sealed)?;
        file.flush().await?;
        let file = file.into_std().await;
        let meta = meta.clone();
        let fsync = self.fsync;
        tokio::task::spawn_blocking(move || {
            let kept = meta::write(&file, &meta)?;
            if fsync {
                file.sync_all()?;
            }
            Ok(kept)
        })
        .await
        .map_err(io::Error::other)?
    }

    /// Gives the sealed file `name`, or `name-2`, `name-3`, … when that is
    /// taken (never replacing a file), and drops the temporary name; returns
    /// the name given. The new name is durable once [`DirSync::sync`](crate::store::DirSync::sync) has run.
    pub async fn link(mut self, name: &str) -> io::Result<String> {
        if self.file.is_some() {
            return Err(io::Error::other(
                "the file must be sealed before it is linked",
            ));
        }
        let (dir, temp, name) = (self.dir.clone(), self.temp.clone(), name.to_owned());
        let (linked, unlinked) = tokio::task::spawn_blocking(move || {
            let linked = link_unused(&dir, &temp, &name)?;
            // Should this fail, dropping tries again.
            Ok::<_, io::Error>((linked, std::fs::remove_file(&temp).is_ok()))
        })
        .await
        .map_err(io::Error::other)??;
        self.unlinked = unlinked;
        Ok(linked)
    }

    /// Seals, links and syncs the folder: the file is durable under the
    /// returned name. (The service seals and links in separate steps, so
    /// that a request's files are named only once all are whole.)
    #[cfg(test)]
    pub async fn commit(
        mut self,
        name: &str,
        meta: &FileMeta,
        dir: &DirSync,
    ) -> io::Result<String> {
        self.seal(meta).await?;
        let name = self.link(name).await?;
        dir.sync().await?;
        Ok(name)
    }
}

/// Hard-links `temp` to `name` or the first free numbered variant of it.
fn link_unused(dir: &Path, temp: &Path, name: &str) -> io::Result<String> {
    for attempt in 1..=MAX_NAME_ATTEMPTS {
        let candidate = numbered(name, attempt);
        // A hard link fails if the name exists: no file is ever replaced.
        match std::fs::hard_link(temp, dir.join(&candidate)) {
            Ok(()) => return Ok(candidate),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(err) => return Err(err),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("{MAX_NAME_ATTEMPTS} files are already named like {name}"),
    ))
}

impl Drop for Incoming {
    fn drop(&mut self) {
        // Unlinking is one quick metadata operation, left only to a file
        // that was never linked.
        if !self.unlinked {
            let _ = std::fs::remove_file(&self.temp);
        }
        self.in_flight.dec();
    }
}

fn sealed() -> io::Error {
    io::Error::other("the file was already sealed")
}

/// Removes temporary files a crash left behind: this machine's, and any
/// older than [`STALE_INCOMING`]; returns how many.
pub async fn remove_leftovers(dir: &Path) -> io::Result<usize> {
    let own = format!(".{}", this_machine());
    let mut removed = 0;
    let mut entries = fs::read_dir(dir).await?;
    while let Some(entry) = entries.next_entry().await? {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with(INCOMING_PREFIX) {
            continue;
        }
        let stale = || async {
            let modified = entry.metadata().await.ok()?.modified().ok()?;
            Some(modified.elapsed().ok()? > STALE_INCOMING)
        };
        if name.ends_with(&own) || stale().await == Some(true) {
            match fs::remove_file(entry.path()).await {
                Ok(()) => removed += 1,
                Err(err) if err.kind() == io::ErrorKind::NotFound => {}
                Err(err) => return Err(err),
            }
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> FileMeta {
        FileMeta::new("orig", "field", "00".repeat(32), "now".into())
    }

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[tokio::test]
    async fn a_committed_file_appears_whole_under_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let mut incoming = Incoming::create(dir.path(), &Gauge::default())
            .await
            .unwrap();
        incoming.write(b"hello ").await.unwrap();
        assert_eq!(names_in(dir.path()).len(), 1, "only the temporary file");
        assert!(names_in(dir.path())[0].starts_with(INCOMING_PREFIX));
        incoming.write(b"world").await.unwrap();
        assert_eq!(incoming.len(), 11);
        let name = incoming
            .commit("greeting.txt", &meta(), &DirSync::open(dir.path()).unwrap())
            .await
            .unwrap();
        assert_eq!(name, "greeting.txt");
        assert_eq!(names_in(dir.path()), ["greeting.txt"]);
        assert_eq!(
            std::fs::read(dir.path().join(name)).unwrap(),
            b"hello world"
        );
    }

    #[tokio::test]
    async fn a_dropped_file_leaves_nothing_and_is_no_longer_in_flight() {
        let dir = tempfile::tempdir().unwrap();
        let in_flight = Gauge::default();
        let mut incoming = Incoming::create(dir.path(), &in_flight).await.unwrap();
        let mut sealed = Incoming::create(dir.path(), &in_flight).await.unwrap();
        assert_eq!(in_flight.get(), 2);
        incoming.write(&[7; 4096]).await.unwrap();
        sealed.write(&[8; 4096]).await.unwrap();
        sealed.seal(&meta()).await.unwrap();
        drop(incoming);
        drop(sealed);
        assert!(names_in(dir.path()).is_empty());
        assert_eq!(in_flight.get(), 0);
    }

    #[tokio::test]
    async fn a_file_written_in_one_go_is_sealed_and_links_like_any_other() {
        let dir = tempfile::tempdir().unwrap();
        let in_flight = Gauge::default();
        let (incoming, kept) =
            Incoming::create_sealed(dir.path(), &in_flight, b"whole".to_vec(), &meta(), true)
                .await
                .unwrap();
        assert!(kept);
        assert_eq!(in_flight.get(), 1);
        assert_eq!(names_in(dir.path()).len(), 1, "only the temporary file");
        let name = incoming.link("one-go.txt").await.unwrap();
        assert_eq!(names_in(dir.path()), ["one-go.txt"]);
        assert_eq!(std::fs::read(dir.path().join(&name)).unwrap(), b"whole");
        assert_eq!(meta::read(&dir.path().join(name)), Some(meta()));
        assert_eq!(in_flight.get(), 0);
    }

    #[tokio::test]
    async fn a_committed_file_carries_its_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let mut incoming = Incoming::create(dir.path(), &Gauge::default())
            .await
            .unwrap();
        incoming.write(b"x").await.unwrap();
        let sync = DirSync::open(dir.path()).unwrap();
        let name = incoming.commit("m.bin", &meta(), &sync).await.unwrap();
        assert_eq!(meta::read(&dir.path().join(name)), Some(meta()));
    }

    #[tokio::test]
    async fn a_taken_name_is_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let mut names = Vec::new();
        for content in [b"one", b"two", b"six"] {
            let mut incoming = Incoming::create(dir.path(), &Gauge::default())
                .await
                .unwrap();
            incoming.write(content).await.unwrap();
            let sync = DirSync::open(dir.path()).unwrap();
            names.push(incoming.commit("same.txt", &meta(), &sync).await.unwrap());
        }
        assert_eq!(names, ["same.txt", "same-2.txt", "same-3.txt"]);
        assert_eq!(std::fs::read(dir.path().join("same.txt")).unwrap(), b"one");
        assert_eq!(
            std::fs::read(dir.path().join("same-3.txt")).unwrap(),
            b"six"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_commits_of_one_name_all_survive() {
        let dir = tempfile::tempdir().unwrap();
        let mut commits = tokio::task::JoinSet::new();
        for i in 0..50u8 {
            let dir = dir.path().to_owned();
            commits.spawn(async move {
                let mut incoming = Incoming::create(&dir, &Gauge::default()).await.unwrap();
                incoming.write(&[i; 100]).await.unwrap();
                let sync = DirSync::open(&dir).unwrap();
                (i, incoming.commit("race", &meta(), &sync).await.unwrap())
            });
        }
        let results = commits.join_all().await;
        let mut names: Vec<&String> = results.iter().map(|(_, n)| n).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 50, "every upload kept its own file");
        for (i, name) in &results {
            assert_eq!(std::fs::read(dir.path().join(name)).unwrap(), vec![*i; 100]);
        }
        assert_eq!(names_in(dir.path()).len(), 50, "no temporary file left");
    }

    #[tokio::test]
    async fn leftovers_of_this_machine_or_of_long_ago_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let own = format!("{INCOMING_PREFIX}abc.{}", this_machine());
        std::fs::write(dir.path().join(&own), b"half").unwrap();
        // Another replica's upload under way stays…
        let others = format!("{INCOMING_PREFIX}def.other-replica");
        std::fs::write(dir.path().join(&others), b"half").unwrap();
        // …unless it is older than any upload can take.
        let old = format!("{INCOMING_PREFIX}ghi.gone-replica");
        let path = dir.path().join(&old);
        std::fs::write(&path, b"half").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(std::time::SystemTime::now() - STALE_INCOMING * 2)
            .unwrap();
        std::fs::write(dir.path().join("kept.txt"), b"whole").unwrap();
        assert_eq!(remove_leftovers(dir.path()).await.unwrap(), 2);
        assert_eq!(names_in(dir.path()), [others.as_str(), "kept.txt"]);
        let fresh = Incoming::create(dir.path(), &Gauge::default())
            .await
            .unwrap();
        assert!(fresh.temp.to_string_lossy().ends_with(this_machine()));
    }

    #[test]
    fn numbered_names_keep_the_extension() {
        assert_eq!(numbered("a.tar.gz", 2), "a.tar-2.gz");
        assert_eq!(numbered("README", 3), "README-3");
        assert_eq!(numbered(".x", 2), ".x-2");
        assert_eq!(numbered("f-1-x.txt", 1), "f-1-x.txt");
    }
}
