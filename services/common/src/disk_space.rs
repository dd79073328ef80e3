//! The low-disk guard: intake stops taking things in while free space on
//! the data volume is under a floor, before the disk is actually full, so
//! nothing is ever left half-written by a full disk.
//!
//! The `[disk]` table (`disk.min_free_bytes`, 0 turns it off) is the same
//! in every service. Free space is asked of the file system (statvfs) at
//! most every [`RECHECK`], so the guard costs a request nothing measurable;
//! `/readyz` reports it as the check `disk-space`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::readiness::Readiness;

/// How long one answer from the file system is trusted.
pub const RECHECK: Duration = Duration::from_millis(200);

/// The `[disk]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DiskSettings {
    /// Free bytes the data volume must keep; intake is refused (HTTP 507,
    /// SMTP 452) below it. 0 turns the guard off.
    pub min_free_bytes: u64,
}

impl Default for DiskSettings {
    fn default() -> Self {
        Self {
            min_free_bytes: 64 * 1024 * 1024,
        }
    }
}

/// The data volume had less free space than the floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the data volume has {free} bytes free, under the floor of {floor}")]
pub struct LowDisk {
    /// Bytes free when last asked.
    pub free: u64,
    /// `disk.min_free_bytes`.
    pub floor: u64,
}

/// Watches free space under one folder.
#[derive(Debug)]
pub struct DiskGuard {
    dir: PathBuf,
    floor: u64,
    started: Instant,
    /// When free space was last asked (µs since `started`), and the answer.
    checked_at_us: AtomicU64,
    free: AtomicU64,
    /// Whether the last answer was under the floor (for the log line on change).
    low: AtomicBool,
}

impl DiskGuard {
    /// A guard on the volume holding `dir`.
    pub fn new(dir: PathBuf, settings: &DiskSettings) -> Self {
        Self {
            dir,
            floor: settings.min_free_bytes,
            started: Instant::now(),
            checked_at_us: AtomicU64::new(u64::MAX),
            free: AtomicU64::new(u64::MAX),
            low: AtomicBool::new(false),
        }
    }

    /// A guard on the volume holding `dir`, reported by `readiness` as its
    /// `disk-space` check.
    pub fn watched(dir: PathBuf, settings: &DiskSettings, readiness: &Readiness) -> Arc<Self> {
        let guard = Arc::new(Self::new(dir, settings));
        let check = Arc::clone(&guard);
        readiness.register("disk-space", move || check.check().is_ok());
        guard
    }

    /// `Err` while the volume has less free space than the floor. A volume
    /// the file system cannot be asked about counts as having room: the
    /// write itself then says what is wrong.
    pub fn check(&self) -> Result<(), LowDisk> {
        if self.floor == 0 {
            return Ok(());
        }
        let now_us = self.started.elapsed().as_micros() as u64;
        let checked = self.checked_at_us.load(Ordering::Relaxed);
        let free =
            if checked != u64::MAX && now_us.saturating_sub(checked) < RECHECK.as_micros() as u64 {
                self.free.load(Ordering::Relaxed)
            } else {
                let free = free_bytes(&self.dir).unwrap_or(u64::MAX);
                self.free.store(free, Ordering::Relaxed);
                self.checked_at_us.store(now_us, Ordering::Relaxed);
                self.report(free);
                free
            };
        if free < self.floor {
            Err(LowDisk {
                free,
                floor: self.floor,
            })
        } else {
            Ok(())
        }
    }

    /// Logs once when the volume goes under the floor and once when it is back.
    fn report(&self, free: u64) {
        let low = free < self.floor;
        if self.low.swap(low, Ordering::Relaxed) != low {
            if low {
                tracing::warn!(
                    path = %self.dir.display(),
                    free_bytes = free,
                    min_free_bytes = self.floor,
                    "data volume is nearly full; refusing intake until space is freed"
                );
            } else {
                tracing::info!(path = %self.dir.display(), free_bytes = free, "data volume has room again; taking intake");
            }
        }
    }
}

/// Bytes an unprivileged process may still write on the volume of `dir`.
pub fn free_bytes(dir: &std::path::Path) -> std::io::Result<u64> {
    let stats = rustix::fs::statvfs(dir)?;
    Ok(stats.f_bavail.saturating_mul(stats.f_frsize))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guard_refuses_under_the_floor_and_is_off_at_zero() {
        let dir = tempfile::tempdir().unwrap();
        let free = free_bytes(dir.path()).unwrap();
        assert!(free > 0);
        let roomy = DiskGuard::new(dir.path().into(), &DiskSettings { min_free_bytes: 1 });
        assert_eq!(roomy.check(), Ok(()));
        let tight = DiskGuard::new(
            dir.path().into(),
            &DiskSettings {
                min_free_bytes: u64::MAX,
            },
        );
        let refused = tight.check().unwrap_err();
        assert_eq!(refused.floor, u64::MAX);
        assert!(refused.free <= free + (1 << 30));
        let off = DiskGuard::new(dir.path().into(), &DiskSettings { min_free_bytes: 0 });
        assert_eq!(off.check(), Ok(()));
    }
}
