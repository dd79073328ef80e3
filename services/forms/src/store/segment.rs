//! One segment of the journal: a `.jsonl` file of records and its `.idx`
//! file, which holds where each record sits so nothing has to be scanned.
//!
//! An index entry is 12 bytes: the record's offset in the segment (u64, little
//! endian) and its length including the newline (u32). The data file is the
//! truth; the index only saves reading it, and start-up checks and repairs it.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::StoreError;

/// Bytes of one index entry.
pub(super) const ENTRY_BYTES: u64 = 12;

/// Where one record sits in its segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Span {
    pub offset: u64,
    /// Length including the trailing newline.
    pub len: u32,
}

impl Span {
    /// Where the record ends (the byte after its newline).
    pub fn end(self) -> u64 {
        self.offset + u64::from(self.len)
    }

    pub fn encode(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.offset.to_le_bytes());
        out.extend_from_slice(&self.len.to_le_bytes());
    }

    fn decode(bytes: &[u8]) -> Self {
        let (offset, len) = bytes.split_at(8);
        Span {
            offset: u64::from_le_bytes(offset.try_into().expect("8 bytes")),
            len: u32::from_le_bytes(len.try_into().expect("4 bytes")),
        }
    }
}

/// The extension of a segment's files while a compaction writes their
/// replacement: `0000000007.jsonl.copy` beside `0000000007.jsonl`.
pub(super) const COPY_EXTENSION: &str = "copy";

/// Where a compaction writes the replacement of `path`.
pub(super) fn copy_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(COPY_EXTENSION);
    PathBuf::from(name)
}

/// The name of segment `serial`'s data file; the index has `.idx` instead.
pub(super) fn data_name(serial: u64) -> String {
    format!("{serial:010}.jsonl")
}

/// The index path that goes with a data path.
pub(super) fn index_path(data: &Path) -> PathBuf {
    data.with_extension("idx")
}

/// The serial number in a data file's name, if it is one of ours.
pub(super) fn serial_of(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".jsonl")?;
    (digits.len() == 10 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// The segments in `dir`: serial number and data path, oldest first.
pub(super) fn list(dir: &Path) -> std::io::Result<Vec<(u64, PathBuf)>> {
    let mut segments = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if let Some(serial) = entry.file_name().to_str().and_then(serial_of) {
            segments.push((serial, entry.path()));
        }
    }
    segments.sort_unstable();
    Ok(segments)
}

/// A segment as readers see it: read handles, and how many records it holds.
#[derive(Debug)]
pub(super) struct Segment {
    /// Its number in the file names; segments are read in this order.
    pub serial: u64,
    /// The sequence number of its first record.
    pub first_seq: u64,
    data: File,
    index: File,
    /// Records indexed so far; only the last segment still grows. The writer
    /// raises it after the entries are in the index file.
    count: AtomicU64,
}

impl Segment {
    pub fn new(serial: u64, first_seq: u64, data: File, index: File, count: u64) -> Self {
        Self {
            serial,
            first_seq,
            data,
            index,
            count: AtomicU64::new(count),
        }
    }

    /// Records readable now.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Acquire)
    }

    /// One past the sequence number of its newest record.
    pub fn end_seq(&self) -> u64 {
        self.first_seq + self.count()
    }

    /// Makes `added` more records readable; their entries are in the index file.
    pub fn grow(&self, added: u64) {
        self.count.fetch_add(added, Ordering::Release);
    }

    /// The spans of its records `from..to` (positions inside the segment),
    /// with one read of the index.
    pub fn spans(&self, from: u64, to: u64) -> Result<Vec<Span>, StoreError> {
        read_index(&self.index, from, to).map_err(|e| StoreError::Read(Arc::new(e)))
    }

    /// Bytes its two files take on disk now.
    pub fn bytes(&self) -> std::io::Result<u64> {
        Ok(self.data.metadata()?.len() + self.index.metadata()?.len())
    }

    /// Another handle on its data file, for reading it whole.
    pub fn data_handle(&self) -> std::io::Result<File> {
        self.data.try_clone()
    }

    /// A record's bytes as stored, newline included.
    pub fn read_raw(&self, span: Span) -> Result<Vec<u8>, StoreError> {
        self.read_head(span, span.len as usize)
    }

    /// The first `max` bytes of a record (fewer if it is shorter).
    pub fn read_head(&self, span: Span, max: usize) -> Result<Vec<u8>, StoreError> {
        let mut buf = vec![0u8; (span.len as usize).min(max)];
        self.data
            .read_exact_at(&mut buf, span.offset)
            .map_err(|e| StoreError::Read(Arc::new(e)))?;
        Ok(buf)
    }

    /// One record's JSON text, as stored, without its newline.
    pub fn read(&self, span: Span) -> Result<Vec<u8>, StoreError> {
        let mut buf = vec![0u8; span.len as usize];
        self.data
            .read_exact_at(&mut buf, span.offset)
            .map_err(|e| StoreError::Read(Arc::new(e)))?;
        if buf.pop() != Some(b'\n') {
            return Err(invalid_record("the index does not point at a whole line"));
        }
        std::str::from_utf8(&buf).map_err(invalid_record)?;
        Ok(buf)
    }
}

/// Reads entries `from..to` of an index file with one read.
pub(super) fn read_index(index: &File, from: u64, to: u64) -> std::io::Result<Vec<Span>> {
    let mut bytes = vec![0u8; ((to - from) * ENTRY_BYTES) as usize];
    index.read_exact_at(&mut bytes, from * ENTRY_BYTES)?;
    Ok(bytes
        .chunks_exact(ENTRY_BYTES as usize)
        .map(Span::decode)
        .collect())
}

/// A stored line that no longer reads back as a UTF-8 line.
fn invalid_record<E>(err: E) -> StoreError
where
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    StoreError::Read(Arc::new(std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        err,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_round_trips_in_twelve_bytes() {
        let span = Span {
            offset: (1 << 40) + 7,
            len: 4_000_000,
        };
        let mut bytes = Vec::new();
        span.encode(&mut bytes);
        assert_eq!(bytes.len() as u64, ENTRY_BYTES);
        assert_eq!(Span::decode(&bytes), span);
    }

    #[test]
    fn only_our_file_names_are_segments() {
        assert_eq!(serial_of(&data_name(42)), Some(42));
        assert_eq!(serial_of("0000000042.idx"), None);
        assert_eq!(serial_of("42.jsonl"), None);
        assert_eq!(serial_of("00000000x2.jsonl"), None);
        assert_eq!(serial_of("submissions.jsonl"), None);
    }
}
