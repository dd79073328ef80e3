//! What `/readyz` reports: whether the service can do its job. Served over
//! HTTP by `inlet-http`; kept here so a service without actix has it too.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use serde::Serialize;

/// What `/readyz` checks: listeners bound and data folders writable.
#[derive(Debug)]
pub struct Readiness {
    /// Set once the service's listeners are bound and serving.
    listening: AtomicBool,
    /// Folders the service must be able to write into.
    writable_dirs: Vec<PathBuf>,
    /// Makes each probe file name unique within the process.
    probe_counter: AtomicU64,
}

/// One readiness check's outcome, as `/readyz` reports it.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct CheckResult {
    /// Which check.
    pub name: String,
    /// Whether it passed.
    pub ok: bool,
}

impl Readiness {
    /// Readiness that requires each of `writable_dirs` to accept a new file.
    pub fn new(writable_dirs: Vec<PathBuf>) -> Arc<Self> {
        Arc::new(Self {
            listening: AtomicBool::new(false),
            writable_dirs,
            probe_counter: AtomicU64::new(0),
        })
    }

    /// Records that the listeners are bound and the server is running.
    pub fn mark_listening(&self) {
        self.listening.store(true, Ordering::SeqCst);
    }

    /// Whether every check in `results` passed (and there was at least one).
    pub fn all_ok(results: &[CheckResult]) -> bool {
        !results.is_empty() && results.iter().all(|c| c.ok)
    }

    /// Runs every check; blocking (touches the filesystem).
    pub fn check(&self) -> Vec<CheckResult> {
        let mut results = vec![CheckResult {
            name: "listeners".into(),
            ok: self.listening.load(Ordering::SeqCst),
        }];
        for dir in &self.writable_dirs {
            results.push(CheckResult {
                name: format!("writable:{}", dir.display()),
                ok: self.probe_dir(dir).is_ok(),
            });
        }
        results
    }

    /// Creates, writes and removes a uniquely named file in `dir`.
    fn probe_dir(&self, dir: &std::path::Path) -> std::io::Result<()> {
        use std::io::Write;
        let n = self.probe_counter.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!(".readyz-probe-{}-{n}", std::process::id()));
        let result = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .and_then(|mut f| f.write_all(b"ok"));
        let _ = std::fs::remove_file(&path);
        result
    }
}
