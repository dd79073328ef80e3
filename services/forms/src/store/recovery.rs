//! Opening the journal at start-up without reading its records.
//!
//! Each segment's index says where its records are. Start-up trusts an index
//! up to its last entry that still points at a whole line of the data file,
//! then reads only what lies past that entry: nothing after a clean stop, a
//! few batches after a crash. So opening takes about as long at 10 M records
//! as at 10 k. A segment without a usable index (or the single file of older
//! versions) is scanned once and its index rebuilt.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::first_kept;
use super::segment::{self, Segment, Span, ENTRY_BYTES};
use super::{JOURNAL_DIR, LEGACY_JOURNAL_FILE};

/// The journal's segments, oldest first, and the last one's files for writing.
pub(super) struct Recovered {
    pub segments: Vec<Arc<Segment>>,
    pub active: ActiveFiles,
    /// Bytes of records read to rebuild index entries (none after a clean stop).
    pub scanned: u64,
}

/// The last segment, open for appending.
pub(super) struct ActiveFiles {
    pub dir: PathBuf,
    /// Readers' view of it (also in [`Recovered::segments`]).
    pub segment: Arc<Segment>,
    pub data: File,
    pub index: File,
    /// Bytes of whole records in the data file.
    pub len: u64,
}

/// What opening one segment found.
struct Opened {
    data: File,
    index: File,
    count: u64,
    len: u64,
    scanned: u64,
}

/// Opens (or creates) the journal in `forms_dir` and checks every segment's index.
pub(super) fn open(forms_dir: &Path) -> std::io::Result<Recovered> {
    let dir = forms_dir.join(JOURNAL_DIR);
    create_dir_durably(forms_dir, &dir)?;
    adopt_legacy_file(forms_dir, &dir)?;
    remove_leftovers(&dir)?;
    let first_kept = first_kept::read(&dir)?;
    let mut found = segment::list(&dir)?;
    if let Some(kept) = first_kept {
        found = finish_dropping(found, kept.serial)?;
    }
    if found.is_empty() {
        let serial = first_kept.map_or(1, |kept| kept.serial);
        create_segment(&dir, serial)?;
        found.push((serial, dir.join(segment::data_name(serial))));
    }
    let mut segments = Vec::with_capacity(found.len());
    let mut first_seq = first_kept.map_or(0, |kept| kept.first_seq);
    let mut scanned = 0;
    let mut last = None;
    for (serial, data_path) in found {
        let opened = open_segment(&data_path)?;
        scanned += opened.scanned;
        let segment = Arc::new(Segment::new(
            serial,
            first_seq,
            opened.data.try_clone()?,
            opened.index.try_clone()?,
            opened.count,
        ));
        first_seq += opened.count;
        segments.push(Arc::clone(&segment));
        last = Some((opened, segment));
    }
    let (last, segment) = last.expect("at least one segment");
    Ok(Recovered {
        segments,
        active: ActiveFiles {
            dir,
            segment,
            data: last.data,
            index: last.index,
            len: last.len,
        },
        scanned,
    })
}

/// Removes what a compaction or a retention drop cut short by a crash left
/// beside the segments: copies not yet renamed into place.
fn remove_leftovers(dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let leftover = path
            .extension()
            .is_some_and(|ext| ext == segment::COPY_EXTENSION || ext == "new" || ext == "rewrite");
        if leftover {
            tracing::info!(path = %path.display(), "removing what an interrupted compaction or sweep left");
            std::fs::remove_file(&path)?;
        }
    }
    Ok(())
}

/// Removes the segments older than `first_serial` that a crash left behind
/// after retention had decided to drop them; returns the rest.
fn finish_dropping(
    found: Vec<(u64, PathBuf)>,
    first_serial: u64,
) -> std::io::Result<Vec<(u64, PathBuf)>> {
    let (dropped, kept): (Vec<_>, Vec<_>) = found
        .into_iter()
        .partition(|(serial, _)| *serial < first_serial);
    for (serial, data) in dropped {
        tracing::info!(serial, "finishing the removal of an expired segment");
        remove_segment_files(&data)?;
    }
    Ok(kept)
}

/// Removes a segment's data and index files (either may be gone already).
pub(super) fn remove_segment_files(data: &Path) -> std::io::Result<()> {
    for path in [segment::index_path(data), data.to_path_buf()] {
        match std::fs::remove_file(&path) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(err),
            _ => {}
        }
    }
    Ok(())
}

/// Creates segment `serial`'s two files empty (emptying any left by a
/// failed attempt) and makes their names durable.
pub(super) fn create_segment(dir: &Path, serial: u64) -> std::io::Result<(File, File)> {
    let data_path = dir.join(segment::data_name(serial));
    let data = open_for_append(&data_path)?;
    let index = open_for_append(&segment::index_path(&data_path))?;
    data.set_len(0)?;
    index.set_len(0)?;
    File::open(dir)?.sync_all()?;
    Ok((data, index))
}

fn open_for_append(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
}

fn create_dir_durably(parent: &Path, dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    File::open(parent)?.sync_all()
}

/// Earlier versions kept one `submissions.jsonl`; it becomes the first
/// segment (its index is built when it is opened).
fn adopt_legacy_file(forms_dir: &Path, dir: &Path) -> std::io::Result<()> {
    let legacy = forms_dir.join(LEGACY_JOURNAL_FILE);
    if !legacy.exists() {
        return Ok(());
    }
    if !segment::list(dir)?.is_empty() {
        tracing::warn!(
            path = %legacy.display(),
            "a single-file journal of an earlier version lies beside the segment folder; \
             it is not read"
        );
        return Ok(());
    }
    let target = dir.join(segment::data_name(1));
    std::fs::rename(&legacy, &target)?;
    File::open(dir)?.sync_all()?;
    File::open(forms_dir)?.sync_all()?;
    tracing::info!(
        from = %legacy.display(),
        to = %target.display(),
        "moved the single-file journal of an earlier version into the segment folder"
    );
    Ok(())
}

/// Opens one segment, keeps the part of its index that matches the data,
/// and indexes what lies past it.
fn open_segment(data_path: &Path) -> std::io::Result<Opened> {
    let data = open_for_append(data_path)?;
    let index_path = segment::index_path(data_path);
    let index = open_for_append(&index_path)?;
    let data_len = data.metadata()?.len();
    let index_len = index.metadata()?.len();
    let mut count = index_len / ENTRY_BYTES;
    // Entries past the data are what an index written ahead of a lost write
    // leaves; a torn entry is what a crash mid-write leaves.
    let mut resume_at = 0;
    while count > 0 {
        let last = segment::read_index(&index, count - 1, count)?[0];
        if last.end() <= data_len {
            if ends_a_line(&data, last)? {
                resume_at = last.end();
            } else {
                tracing::warn!(
                    path = %index_path.display(),
                    "segment index does not match its data; rebuilding it"
                );
                count = 0;
            }
            break;
        }
        count -= 1;
    }
    if count * ENTRY_BYTES != index_len {
        index.set_len(count * ENTRY_BYTES)?;
    }
    let (len, added) = index_tail(&data, data_path, &index, resume_at, data_len)?;
    Ok(Opened {
        data,
        index,
        count: count + added,
        len,
        scanned: data_len - resume_at,
    })
}

/// Whether `span` is a whole line: it ends in a newline and follows one.
fn ends_a_line(data: &File, span: Span) -> std::io::Result<bool> {
    if span.len == 0 {
        return Ok(false);
    }
    let mut last = [0u8; 1];
    data.read_exact_at(&mut last, span.end() - 1)?;
    if last[0] != b'\n' {
        return Ok(false);
    }
    if span.offset == 0 {
        return Ok(true);
    }
    let mut before = [0u8; 1];
    data.read_exact_at(&mut before, span.offset - 1)?;
    Ok(before[0] == b'\n')
}

/// Indexes the lines of `data` from `from` on. A last line without its
/// newline is what a crash mid-write leaves; it was never acknowledged, so it
/// is cut off. A complete line that is not JSON (damage, or an edit by hand)
/// stays in the file for a person to inspect, is left out of the index, and
/// is reported. Returns the length of whole lines and how many were indexed.
fn index_tail(
    data: &File,
    data_path: &Path,
    index: &File,
    from: u64,
    data_len: u64,
) -> std::io::Result<(u64, u64)> {
    if from == data_len {
        return Ok((from, 0));
    }
    let mut source = data.try_clone()?;
    source.seek(SeekFrom::Start(from))?;
    let mut reader = BufReader::with_capacity(1 << 20, source);
    let mut entries = Vec::new();
    let mut added = 0;
    let mut offset = from;
    let mut line = Vec::new();
    let mut skipped = 0usize;
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line)?;
        if n == 0 || line.last() != Some(&b'\n') {
            break;
        }
        if serde_json::from_slice::<serde::de::IgnoredAny>(&line).is_ok() {
            Span {
                offset,
                len: n as u32,
            }
            .encode(&mut entries);
            added += 1;
            if entries.len() >= 1 << 20 {
                (&*index).write_all(&entries)?;
                entries.clear();
            }
        } else {
            skipped += 1;
        }
        offset += n as u64;
    }
    (&*index).write_all(&entries)?;
    index.sync_data()?;
    if offset < data_len {
        tracing::warn!(
            path = %data_path.display(),
            kept_bytes = offset,
            cut_bytes = data_len - offset,
            "journal ended in an incomplete record; cutting it off"
        );
        data.set_len(offset)?;
        data.sync_all()?;
    }
    if skipped > 0 {
        tracing::warn!(path = %data_path.display(), skipped, "journal has lines that are not JSON; skipping them");
    }
    Ok((offset, added))
}
