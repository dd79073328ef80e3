//! One message on its way into every recipient's Maildir.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Why a delivery failed. Nothing of it remains on disk.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The body is over `smtp.max_message_bytes`.
    #[error("the message is larger than smtp.max_message_bytes ({limit} bytes)")]
    TooLarge {
        /// The configured limit.
        limit: u64,
    },
    /// The disk is full.
    #[error("no space left to store the message")]
    DiskFull,
    /// Writing, syncing or naming a copy failed.
    #[error("storing the message failed: {0}")]
    Io(#[source] std::io::Error),
}

impl DeliveryError {
    /// A short label for metrics and logs.
    pub fn reason(&self) -> &'static str {
        match self {
            DeliveryError::TooLarge { .. } => "too_large",
            DeliveryError::DiskFull => "disk_full",
            DeliveryError::Io(_) => "store_failed",
        }
    }
}

impl From<std::io::Error> for DeliveryError {
    fn from(err: std::io::Error) -> Self {
        if err.kind() == std::io::ErrorKind::StorageFull {
            DeliveryError::DiskFull
        } else {
            DeliveryError::Io(err)
        }
    }
}

/// A copy for one recipient: written in its `tmp/`, named in its `new/`.
#[derive(Debug)]
struct Copy {
    file: BufWriter<File>,
    tmp: PathBuf,
    new: PathBuf,
    new_folder: PathBuf,
}

/// A message being delivered: every copy open in `tmp/`. Dropped before
/// [`Delivery::commit`] (an aborted transfer, a failed write), it removes
/// every copy.
#[derive(Debug)]
pub struct Delivery {
    copies: Vec<Copy>,
    body_bytes: u64,
    limit: u64,
    /// Copies already in `new/` (during commit), to take back on failure.
    named: Vec<PathBuf>,
}

impl Delivery {
    pub(super) fn new(limit: u64) -> Self {
        Self {
            copies: Vec::new(),
            body_bytes: 0,
            limit,
            named: Vec::new(),
        }
    }

    /// Opens a copy `name` in `maildir`'s `tmp/` that begins with `headers`.
    pub(super) fn add_copy(
        &mut self,
        maildir: &Path,
        name: &str,
        headers: &[u8],
    ) -> Result<(), DeliveryError> {
        let tmp = maildir.join("tmp").join(name);
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        let mut copy = Copy {
            file: BufWriter::with_capacity(64 * 1024, file),
            new: maildir.join("new").join(name),
            new_folder: maildir.join("new"),
            tmp,
        };
        // Pushed first, so a failed write below is cleaned up with the rest.
        let result = copy.file.write_all(headers);
        self.copies.push(copy);
        result.map_err(Into::into)
    }

    /// Body bytes written so far.
    pub fn body_bytes(&self) -> u64 {
        self.body_bytes
    }

    /// Appends header lines of the server's own (not counted as body) to
    /// every copy; written before any body byte.
    pub fn write_prefix(&mut self, lines: &[u8]) -> Result<(), DeliveryError> {
        for copy in &mut self.copies {
            copy.file.write_all(lines)?;
        }
        Ok(())
    }

    /// Appends `chunk` of the body (after dot-unstuffing) to every copy.
    /// Past `smtp.max_message_bytes` it fails with [`DeliveryError::TooLarge`];
    /// the caller drops the delivery, which removes every copy.
    pub fn write(&mut self, chunk: &[u8]) -> Result<(), DeliveryError> {
        self.body_bytes += chunk.len() as u64;
        if self.body_bytes > self.limit {
            return Err(DeliveryError::TooLarge { limit: self.limit });
        }
        for copy in &mut self.copies {
            copy.file.write_all(chunk)?;
        }
        Ok(())
    }

    /// Makes every copy durable and names it in `new/`: each file is written
    /// out and fsync'd, then renamed, then each `new/` folder is fsync'd.
    /// Returns where each copy now is. On failure no copy remains.
    pub fn commit(mut self) -> Result<Vec<PathBuf>, DeliveryError> {
        for copy in &mut self.copies {
            copy.file.flush()?;
            copy.file.get_ref().sync_data()?;
        }
        for copy in &self.copies {
            std::fs::rename(&copy.tmp, &copy.new)?;
            self.named.push(copy.new.clone());
        }
        let mut synced: Vec<&Path> = Vec::new();
        for copy in &self.copies {
            if !synced.contains(&copy.new_folder.as_path()) {
                File::open(&copy.new_folder)?.sync_all()?;
                synced.push(&copy.new_folder);
            }
        }
        let named = std::mem::take(&mut self.named);
        self.copies.clear();
        Ok(named)
    }
}

impl Drop for Delivery {
    fn drop(&mut self) {
        for copy in &self.copies {
            let _ = std::fs::remove_file(&copy.tmp);
        }
        for path in &self.named {
            if let Err(err) = std::fs::remove_file(path) {
                tracing::error!(path = %path.display(), error = %err, "could not take back a copy of a failed delivery");
            }
        }
    }
}
