//! A service running in the test's own process, stopped as SIGTERM would.

use std::fmt::Debug;
use std::future::Future;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::WAIT;

/// A service's `run_until_stopped` running on a task, with a way to stop it.
pub struct Running<E> {
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), E>>>,
}

impl<E: Debug + Send + 'static> Running<E> {
    /// Spawns `run`, handing it the future that resolves when a stop is asked.
    pub fn spawn<Fut>(run: impl FnOnce(Stopped) -> Fut) -> Self
    where
        Fut: Future<Output = Result<(), E>> + Send + 'static,
    {
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(run(Stopped(stopped)));
        Self {
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Asks the service to stop without waiting for it.
    pub fn begin_stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Stops the service (if not begun already) and waits, up to [`WAIT`],
    /// for it to end cleanly.
    pub async fn stop(&mut self) {
        self.begin_stop();
        if let Some(task) = self.task.take() {
            tokio::time::timeout(WAIT, task)
                .await
                .expect("server stops in time")
                .expect("server task joins")
                .expect("server stops cleanly");
        }
    }
}

/// Resolves when the test asks the service to stop.
pub struct Stopped(oneshot::Receiver<()>);

impl Stopped {
    /// Waits for the stop.
    pub async fn wait(self) {
        let _ = self.0.await;
    }
}
