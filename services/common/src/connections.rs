//! Connection lifetimes for servers that are not actix (today the SMTP
//! sessions; WebSockets run inside actix, and tonic drains the gRPC ingest
//! itself), in the spirit of mini-redis's
//! `server.rs`: a cap on open connections, a token that tells every one of
//! them to stop, and a tracker that says when all have finished, bounded by
//! the shutdown deadline. `tokio_util`'s `CancellationToken` and
//! `TaskTracker` are the pieces.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The connections of one server.
#[derive(Debug, Clone)]
pub struct Connections {
    /// Cancelled once the server is stopping; each connection watches it.
    stopping: CancellationToken,
    /// Every connection task, so stopping can wait for them.
    tasks: TaskTracker,
    /// One permit per connection that may be open at once.
    slots: Arc<Semaphore>,
}

/// Whether every connection finished before the deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drained {
    /// All connections ended in time.
    All,
    /// The deadline passed with connections still open; they are abandoned.
    TimedOut {
        /// How many were still open.
        open: usize,
    },
}

impl Connections {
    /// A set that allows `max_open` connections at once.
    pub fn new(max_open: usize) -> Self {
        Self {
            stopping: CancellationToken::new(),
            tasks: TaskTracker::new(),
            slots: Arc::new(Semaphore::new(max_open)),
        }
    }

    /// Waits for a free slot before accepting the next connection; `None`
    /// once the server is stopping. Dropping the permit frees the slot.
    pub async fn slot(&self) -> Option<OwnedSemaphorePermit> {
        tokio::select! {
            // Stopping wins over a free slot.
            biased;
            () = self.stopping.cancelled() => None,
            permit = Arc::clone(&self.slots).acquire_owned() => permit.ok(),
        }
    }

    /// A free slot now, or `None` when every slot is taken or the server
    /// is stopping: for a server that answers "busy" instead of waiting.
    pub fn try_slot(&self) -> Option<OwnedSemaphorePermit> {
        if self.stopping.is_cancelled() {
            return None;
        }
        Arc::clone(&self.slots).try_acquire_owned().ok()
    }

    /// Runs one connection as a tracked task, holding `slot` until it ends.
    pub fn spawn<F>(&self, slot: OwnedSemaphorePermit, connection: F) -> JoinHandle<()>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.tasks.spawn(async move {
            connection.await;
            drop(slot);
        })
    }

    /// Resolves once the server is stopping: what a connection selects on
    /// to finish its current exchange and say goodbye.
    pub fn stopping(&self) -> tokio_util::sync::WaitForCancellationFuture<'_> {
        self.stopping.cancelled()
    }

    /// A token cancelled when the server stops, for a connection whose
    /// reading happens outside an async fn (a poll-based stream wrapper).
    pub fn stop_token(&self) -> CancellationToken {
        self.stopping.clone()
    }

    /// Whether [`Connections::stop`] has been called.
    pub fn is_stopping(&self) -> bool {
        self.stopping.is_cancelled()
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.tasks.len()
    }

    /// Tells every connection to stop, refuses new ones, and waits up to
    /// `deadline` for all of them to finish.
    pub async fn stop(&self, deadline: Duration) -> Drained {
        self.stopping.cancel();
        self.tasks.close();
        match tokio::time::timeout(deadline, self.tasks.wait()).await {
            Ok(()) => Drained::All,
            Err(_) => Drained::TimedOut { open: self.open() },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn stop_waits_for_connections_that_heed_the_token() {
        let connections = Connections::new(8);
        for _ in 0..3 {
            let slot = connections.slot().await.unwrap();
            let c = connections.clone();
            connections.spawn(slot, async move {
                c.stopping().await;
                // Finishing the current exchange takes a moment.
                tokio::time::sleep(Duration::from_millis(50)).await;
            });
        }
        assert_eq!(connections.open(), 3);
        assert_eq!(connections.stop(Duration::from_secs(1)).await, Drained::All);
        assert_eq!(connections.open(), 0);
        assert!(
            connections.slot().await.is_none(),
            "no new connection once stopping"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn stop_gives_up_at_the_deadline() {
        let connections = Connections::new(8);
        let slot = connections.slot().await.unwrap();
        connections.spawn(slot, std::future::pending());
        let drained = connections.stop(Duration::from_secs(30)).await;
        assert_eq!(drained, Drained::TimedOut { open: 1 });
    }

    #[tokio::test(start_paused = true)]
    async fn the_cap_holds_the_next_connection_until_one_ends() {
        let connections = Connections::new(1);
        let first = connections.slot().await.unwrap();
        let (finish, finished) = tokio::sync::oneshot::channel::<()>();
        connections.spawn(first, async move {
            let _ = finished.await;
        });
        let waiting = tokio::time::timeout(Duration::from_secs(1), connections.slot()).await;
        assert!(waiting.is_err(), "a second slot while the first is open");
        finish.send(()).unwrap();
        let second = tokio::time::timeout(Duration::from_secs(1), connections.slot()).await;
        assert!(second.is_ok_and(|s| s.is_some()));
    }
}
