//! What `/readyz` reports: whether the service can do its job. Served over
//! HTTP by `inlet-http`; kept here so a service without actix has it too.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use serde::Serialize;

/// A check a service adds to `/readyz`: cheap, non-blocking, true when ready.
pub type Check = Box<dyn Fn() -> bool + Send + Sync>;

/// What `/readyz` checks: listeners bound, data folders writable, and
/// whatever the service registered (a writer thread alive, say).
pub struct Readiness {
    /// Set once the service's listeners are bound and serving.
    listening: AtomicBool,
    /// Folders the service must be able to write into.
    writable_dirs: Vec<PathBuf>,
    /// Makes each probe file name unique within the process.
    probe_counter: AtomicU64,
    /// The service's own checks, by name, in registration order.
    registered: RwLock<Vec<(String, Check)>>,
}

impl std::fmt::Debug for Readiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self
            .registered
            .read()
            .map(|r| r.iter().map(|(name, _)| name.clone()).collect())
            .unwrap_or_default();
        f.debug_struct("Readiness")
            .field("listening", &self.listening)
            .field("writable_dirs", &self.writable_dirs)
            .field("registered", &names)
            .finish()
    }
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
            registered: RwLock::new(Vec::new()),
        })
    }

    /// Adds a check named `name` to every later `/readyz`.
    pub fn register(&self, name: &str, check: impl Fn() -> bool + Send + Sync + 'static) {
        self.registered
            .write()
            .expect("readiness lock")
            .push((name.to_owned(), Box::new(check)));
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
        let registered = self.registered.read().expect("readiness lock");
        results.extend(registered.iter().map(|(name, check)| CheckResult {
            name: name.clone(),
            ok: check(),
        }));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_checks_decide_readiness_too() {
        let readiness = Readiness::new(Vec::new());
        readiness.mark_listening();
        assert!(Readiness::all_ok(&readiness.check()));
        let healthy = Arc::new(AtomicBool::new(true));
        let flag = Arc::clone(&healthy);
        readiness.register("worker", move || flag.load(Ordering::SeqCst));
        assert!(Readiness::all_ok(&readiness.check()));
        healthy.store(false, Ordering::SeqCst);
        let results = readiness.check();
        assert!(!Readiness::all_ok(&results));
        assert_eq!(
            results.last(),
            Some(&CheckResult {
                name: "worker".into(),
                ok: false
            })
        );
    }
}
