//! What is kept about a stored file beside its bytes: who named it what,
//! from which field, its SHA-256 and when it was stored. Kept in the file's
//! own extended attribute, so it is made durable by the same fsync as the
//! bytes and moves with the file; there is no second file to lose.

use std::fs::File;
use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};
use xattr::FileExt;

/// The extended attribute that holds a file's [`FileMeta`] as JSON.
pub const META_ATTR: &str = "user.inlet.upload";

/// Most bytes of the client's original name that are remembered.
pub const MAX_ORIGINAL_NAME_BYTES: usize = 1024;

/// A stored file's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileMeta {
    /// The name the client sent (cut to [`MAX_ORIGINAL_NAME_BYTES`]).
    pub original_name: String,
    /// The form field (or `x-field`) it came in.
    pub field: String,
    /// SHA-256 of its bytes, lowercase hex.
    pub sha256: String,
    /// When it was stored, RFC 3339 UTC.
    pub stored_at: String,
    /// The W3C trace id of the request that stored it; absent on files
    /// stored before Inlet kept it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// The address of the client that sent it (through trusted proxies);
    /// absent when unknown, and on files stored before Inlet kept it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
}

impl FileMeta {
    /// Metadata for a file, with an over-long original name cut at a
    /// character boundary; the trace id is the current request's.
    pub fn new(original_name: &str, field: &str, sha256: String, stored_at: String) -> Self {
        let mut end = original_name.len().min(MAX_ORIGINAL_NAME_BYTES);
        while !original_name.is_char_boundary(end) {
            end -= 1;
        }
        Self {
            original_name: original_name[..end].to_owned(),
            field: field.to_owned(),
            sha256,
            stored_at,
            trace_id: inlet_common::trace_id::current(),
            client: None,
        }
    }

    /// The same metadata, naming the client that sent the file.
    pub fn with_client(self, client: Option<std::net::IpAddr>) -> Self {
        Self {
            client: client.map(|ip| ip.to_string()),
            ..self
        }
    }
}

/// Writes `meta` onto the open `file`. Returns `false` when the filesystem
/// keeps no extended attributes (the file is still stored, without them).
pub fn write(file: &File, meta: &FileMeta) -> io::Result<bool> {
    let json = serde_json::to_vec(meta).map_err(io::Error::other)?;
    match file.set_xattr(META_ATTR, &json) {
        Ok(()) => Ok(true),
        Err(err) if err.kind() == io::ErrorKind::Unsupported => Ok(false),
        Err(err) => Err(err),
    }
}

/// The metadata of the file at `path`, if it has any that can be read.
pub fn read(path: &Path) -> Option<FileMeta> {
    let json = xattr::get(path, META_ATTR).ok()??;
    serde_json::from_slice(&json).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_round_trips_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let file = File::create(&path).unwrap();
        let meta = FileMeta::new("a b.txt", "userfile1", "ab".repeat(32), "t".into());
        assert!(write(&file, &meta).unwrap(), "this filesystem keeps xattrs");
        assert_eq!(read(&path), Some(meta));
    }

    #[test]
    fn a_file_without_metadata_reads_as_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plain");
        std::fs::write(&path, b"x").unwrap();
        assert_eq!(read(&path), None);
    }

    #[test]
    fn long_original_names_are_cut_at_a_character_boundary() {
        let meta = FileMeta::new(&"é".repeat(2000), "f", String::new(), String::new());
        assert!(meta.original_name.len() <= MAX_ORIGINAL_NAME_BYTES);
        assert!(meta.original_name.chars().all(|c| c == 'é'));
    }
}
