//! The `[store.s3]` table: which bucket uploads go to and how the service
//! talks to it.

use std::time::Duration;

use inlet_common::config::{check, check_nonzero, ConfigProblem};
use inlet_common::retention::duration;
use serde::{Deserialize, Serialize};

/// S3 allows parts from 5 MiB (all but the last) to 5 GiB.
const MIN_PART_BYTES: u64 = 5 * 1024 * 1024;
const MAX_PART_BYTES: u64 = 5 * 1024 * 1024 * 1024;

/// How the uploads service reaches S3-compatible storage
/// (`store.backend = "s3"`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct S3Settings {
    /// The S3 endpoint, e.g. `http://minio:9000`; empty for AWS itself
    /// (the region's endpoint).
    pub endpoint: String,
    /// The region the bucket is in (any name for most S3-compatible servers).
    pub region: String,
    /// The bucket files go into.
    pub bucket: String,
    /// Put before every key, to share a bucket: letters, digits and
    /// `.`, `_`, `-`, `/` only (e.g. `inlet/`).
    pub prefix: String,
    /// Address buckets as `endpoint/bucket` (MinIO and most self-hosted
    /// servers) rather than `bucket.endpoint`.
    pub path_style: bool,
    /// The access key id. Never logged.
    pub access_key_id: String,
    /// The secret access key. Never logged.
    pub secret_access_key: String,
    /// Make the bucket at start if it does not exist.
    pub create_bucket: bool,
    /// A file larger than this streams as a multipart upload in parts of
    /// this size (held in memory one at a time, plus the one being sent);
    /// a smaller one is sent in one request.
    pub part_bytes: u64,
    /// How long one request to S3 may take before it is retried (and the
    /// client is answered 503 when retries run out).
    pub request_timeout_ms: u64,
    /// How long start-up waits for S3 before giving up.
    pub start_timeout_ms: u64,
    /// A multipart upload or staging object older than this was left by a
    /// crash (no upload may take longer: keep it above `http.body_timeout_ms`);
    /// the sweep removes it.
    #[serde(with = "duration")]
    pub abandoned_after: Duration,
}

impl Default for S3Settings {
    fn default() -> Self {
        Self {
            endpoint: String::new(),
            region: "us-east-1".to_owned(),
            bucket: "inlet-uploads".to_owned(),
            prefix: String::new(),
            path_style: true,
            access_key_id: String::new(),
            secret_access_key: String::new(),
            create_bucket: false,
            part_bytes: 8 * 1024 * 1024,
            request_timeout_ms: 30_000,
            start_timeout_ms: 30_000,
            abandoned_after: Duration::from_secs(3600),
        }
    }
}

impl std::fmt::Debug for S3Settings {
    /// Everything but the keys.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("path_style", &self.path_style)
            .field("access_key_id", &"<hidden>")
            .field("secret_access_key", &"<hidden>")
            .field("create_bucket", &self.create_bucket)
            .field("part_bytes", &self.part_bytes)
            .field("request_timeout_ms", &self.request_timeout_ms)
            .field("start_timeout_ms", &self.start_timeout_ms)
            .field("abandoned_after", &self.abandoned_after)
            .finish()
    }
}

impl S3Settings {
    /// Adds a problem for each key that is wrong.
    pub fn validate(&self, problems: &mut Vec<ConfigProblem>) {
        check_nonzero(
            problems,
            &[
                ("store.s3.request_timeout_ms", self.request_timeout_ms),
                ("store.s3.start_timeout_ms", self.start_timeout_ms),
                (
                    "store.s3.abandoned_after",
                    self.abandoned_after.as_millis() as u64,
                ),
            ],
        );
        check(
            problems,
            (MIN_PART_BYTES..=MAX_PART_BYTES).contains(&self.part_bytes),
            "store.s3.part_bytes",
            "must be from 5 MiB (5242880) to 5 GiB, as S3 allows",
        );
        check(
            problems,
            is_bucket_name(&self.bucket),
            "store.s3.bucket",
            "must be a bucket name: 3 to 63 lower-case letters, digits, `.` and `-`",
        );
        check(
            problems,
            self.prefix.len() <= 200
                && self
                    .prefix
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-/".contains(&b))
                && self
                    .prefix
                    .split('/')
                    .enumerate()
                    .all(|(at, part)| match part {
                        "" => at + 1 == self.prefix.split('/').count(),
                        "." | ".." => false,
                        _ => true,
                    }),
            "store.s3.prefix",
            "may hold only letters, digits, `.`, `_`, `-` and `/` (no empty, `.` or `..` part), at most 200",
        );
        check(
            problems,
            self.endpoint.is_empty()
                || self.endpoint.starts_with("http://")
                || self.endpoint.starts_with("https://"),
            "store.s3.endpoint",
            "must be an http:// or https:// URL, or empty for AWS",
        );
        check(
            problems,
            !self.region.trim().is_empty(),
            "store.s3.region",
            "must name a region, e.g. us-east-1",
        );
        check(
            problems,
            !self.access_key_id.is_empty() && !self.secret_access_key.is_empty(),
            "store.s3.access_key_id",
            "and store.s3.secret_access_key must both be set (INLET_STORE__S3__ACCESS_KEY_ID, INLET_STORE__S3__SECRET_ACCESS_KEY)",
        );
    }

    /// The per-request timeout.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }
}

fn is_bucket_name(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_hidden_from_debug_and_bad_values_name_their_keys() {
        let settings = S3Settings {
            access_key_id: "AKIDSECRET".into(),
            secret_access_key: "verysecret".into(),
            ..S3Settings::default()
        };
        let shown = format!("{settings:?}");
        assert!(
            !shown.contains("AKIDSECRET") && !shown.contains("verysecret"),
            "{shown}"
        );
        let mut problems = Vec::new();
        settings.validate(&mut problems);
        assert!(problems.is_empty(), "{problems:?}");

        let bad = S3Settings {
            bucket: "Not_A_Bucket".into(),
            prefix: "../x".into(),
            part_bytes: 1024,
            endpoint: "minio:9000".into(),
            ..S3Settings::default()
        };
        let mut problems = Vec::new();
        bad.validate(&mut problems);
        let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "store.s3.part_bytes",
                "store.s3.bucket",
                "store.s3.prefix",
                "store.s3.endpoint",
                "store.s3.access_key_id"
            ]
        );
    }
}
