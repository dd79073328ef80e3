//! Making new names in the uploads folder durable, with group commit: a
//! caller whose link is done waits for one fsync of the folder that started
//! after its link; callers that arrive while an fsync runs share the next
//! one. Under load, one fsync then covers many uploads instead of one each.

use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

/// The uploads folder, held open, and who is waiting for it to be synced.
#[derive(Debug)]
pub struct DirSync {
    dir: Arc<File>,
    state: Mutex<Progress>,
    done: Notify,
}

#[derive(Debug, Default)]
struct Progress {
    /// Tickets handed out: one per caller.
    issued: u64,
    /// Every ticket up to this one is durable.
    synced: u64,
    /// An fsync is running.
    running: bool,
}

impl DirSync {
    /// Opens `dir` for syncing.
    pub fn open(dir: &Path) -> io::Result<Self> {
        Ok(Self {
            dir: Arc::new(File::open(dir)?),
            state: Mutex::new(Progress::default()),
            done: Notify::new(),
        })
    }

    /// Returns once every name made in the folder before this call is durable.
    pub async fn sync(&self) -> io::Result<()> {
        let ticket = {
            let mut state = self.lock();
            state.issued += 1;
            state.issued
        };
        loop {
            let finished = self.done.notified();
            let covers = {
                let mut state = self.lock();
                if state.synced >= ticket {
                    return Ok(());
                }
                if state.running {
                    None
                } else {
                    state.running = true;
                    // Every ticket issued so far had its link done before.
                    Some(state.issued)
                }
            };
            let Some(covers) = covers else {
                finished.await;
                continue;
            };
            let dir = Arc::clone(&self.dir);
            let result = tokio::task::spawn_blocking(move || dir.sync_all())
                .await
                .map_err(io::Error::other)
                .and_then(|synced| synced);
            {
                let mut state = self.lock();
                state.running = false;
                if result.is_ok() {
                    state.synced = state.synced.max(covers);
                }
            }
            self.done.notify_waiters();
            // On failure, each waiter tries an fsync of its own and sees the error.
            return result;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Progress> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_callers_all_return_once_synced() {
        let dir = tempfile::tempdir().unwrap();
        let sync = Arc::new(DirSync::open(dir.path()).unwrap());
        let mut callers = tokio::task::JoinSet::new();
        for _ in 0..64 {
            let sync = Arc::clone(&sync);
            callers.spawn(async move { sync.sync().await });
        }
        for result in callers.join_all().await {
            result.unwrap();
        }
        let state = sync.lock();
        assert_eq!(state.issued, 64);
        assert_eq!(state.synced, 64, "every ticket is covered");
        assert!(!state.running);
    }
}
