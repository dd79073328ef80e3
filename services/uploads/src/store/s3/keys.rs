//! Where things are in the bucket: stored files under `<prefix>files/`,
//! staging objects (large files before they are named) under
//! `<prefix>incoming/`; and a file's metadata as one S3 user-metadata value.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::store::meta::FileMeta;

/// The user-metadata key (`x-amz-meta-inlet`) holding a file's metadata.
pub const META_KEY: &str = "inlet";

/// S3 keeps at most 2 KiB of user metadata per object.
const MAX_META_BYTES: usize = 2048 - META_KEY.len();

/// The key layout under one prefix.
#[derive(Debug, Clone)]
pub struct Keys {
    root: String,
    files: String,
    incoming: String,
}

impl Keys {
    /// The layout under `prefix` (empty, or ending in `/` or not).
    pub fn new(prefix: &str) -> Self {
        Self {
            root: prefix.to_owned(),
            files: format!("{prefix}files/"),
            incoming: format!("{prefix}incoming/"),
        }
    }

    /// The key of the stored file `name`.
    pub fn file(&self, name: &str) -> String {
        format!("{}{name}", self.files)
    }

    /// The stored name of `key`, if it is a stored file's key.
    pub fn name_of<'k>(&self, key: &'k str) -> Option<&'k str> {
        key.strip_prefix(&self.files)
    }

    /// The prefix every key of the store starts with.
    pub fn root(&self) -> &str {
        &self.root
    }

    /// The prefix every stored file's key starts with.
    pub fn files_prefix(&self) -> &str {
        &self.files
    }

    /// A new staging key.
    pub fn new_incoming(&self) -> String {
        format!("{}{}", self.incoming, uuid::Uuid::now_v7())
    }

    /// The prefix every staging key starts with.
    pub fn incoming_prefix(&self) -> &str {
        &self.incoming
    }
}

/// `meta` as a metadata value (URL-safe base64 of its JSON, so any name
/// survives headers), or `None` when it would not fit in S3's 2 KiB.
pub fn encode_meta(meta: &FileMeta) -> Option<String> {
    let json = serde_json::to_vec(meta).ok()?;
    let encoded = URL_SAFE_NO_PAD.encode(json);
    (encoded.len() <= MAX_META_BYTES).then_some(encoded)
}

/// The metadata in a value [`encode_meta`] made, if it is one.
pub fn decode_meta(value: &str) -> Option<FileMeta> {
    let json = URL_SAFE_NO_PAD.decode(value).ok()?;
    serde_json::from_slice(&json).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_round_trips_and_what_cannot_fit_is_not_kept() {
        let meta = FileMeta::new("ملف 😀\r\n.txt", "f", "ab".repeat(32), "now".into());
        let value = encode_meta(&meta).unwrap();
        assert!(value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(decode_meta(&value), Some(meta));
        // The longest original name kept (1 KiB) still fits…
        let longest = FileMeta::new(&"😀".repeat(1000), "f", "ab".repeat(32), "now".into());
        assert_eq!(decode_meta(&encode_meta(&longest).unwrap()), Some(longest));
        // …but 2 KiB of metadata in all does not.
        let too_long = FileMeta {
            field: "f".repeat(1500),
            ..FileMeta::new("a.txt", "f", "ab".repeat(32), "now".into())
        };
        assert_eq!(encode_meta(&too_long), None);
        assert_eq!(decode_meta("not base64!"), None);
    }

    #[test]
    fn names_come_only_from_file_keys() {
        let keys = Keys::new("inlet/");
        assert_eq!(keys.file("a.txt"), "inlet/files/a.txt");
        assert_eq!(keys.name_of("inlet/files/a.txt"), Some("a.txt"));
        assert_eq!(keys.name_of("inlet/incoming/x"), None);
        assert!(keys.new_incoming().starts_with(keys.incoming_prefix()));
    }
}
