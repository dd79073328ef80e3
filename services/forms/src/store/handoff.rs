//! Handing results back from the writer thread to the request threads with
//! one wake-up per batch per thread, not one per record.
//!
//! Waking a task that lives on another thread costs a system call (tokio
//! writes the thread's eventfd) and often a context switch; with a batch of
//! thirty records that was about a tenth of the service's CPU on the POST
//! path. So each actix worker thread gets an [`Inbox`] and a small task that
//! empties it: the writer fills each inbox with its batch's results and wakes
//! that task once, and the task completes the waiting requests, which are
//! then woken on their own thread for free.

use std::cell::RefCell;
use std::sync::{Arc, Mutex};

use tokio::sync::{oneshot, Notify};

use super::StoreError;

/// What one append is answered with: its sequence number, or why it failed.
pub(super) type Outcome = Result<u64, StoreError>;

/// Where an append's outcome goes.
pub(super) struct Reply {
    done: oneshot::Sender<Outcome>,
    /// The worker's inbox, or `None` to complete `done` from the writer.
    inbox: Option<Arc<Inbox>>,
}

impl Reply {
    pub fn new(done: oneshot::Sender<Outcome>, inbox: Option<Arc<Inbox>>) -> Self {
        Self { done, inbox }
    }
}

/// The outcomes waiting for one worker thread's delivery task.
#[derive(Default)]
pub(super) struct Inbox {
    outcomes: Mutex<Vec<(oneshot::Sender<Outcome>, Outcome)>>,
    ready: Notify,
}

thread_local! {
    static WORKER_INBOX: RefCell<Option<Arc<Inbox>>> = const { RefCell::new(None) };
}

impl Inbox {
    /// This worker thread's inbox, starting its delivery task the first
    /// time. Must be called on a thread that runs a tokio `LocalSet` (every
    /// actix worker does).
    pub fn for_this_worker() -> Arc<Inbox> {
        WORKER_INBOX.with(|slot| {
            Arc::clone(slot.borrow_mut().get_or_insert_with(|| {
                let inbox = Arc::new(Inbox::default());
                tokio::task::spawn_local(deliver(Arc::clone(&inbox)));
                inbox
            }))
        })
    }
}

/// Completes each outcome the writer leaves in `inbox`, on the inbox's thread.
async fn deliver(inbox: Arc<Inbox>) {
    let mut outcomes = Vec::new();
    loop {
        inbox.ready.notified().await;
        std::mem::swap(
            &mut outcomes,
            &mut *inbox.outcomes.lock().expect("inbox lock"),
        );
        for (done, outcome) in outcomes.drain(..) {
            let _ = done.send(outcome);
        }
    }
}

/// The writer's side: collects a batch's outcomes, then wakes each inbox it
/// touched once.
#[derive(Default)]
pub(super) struct Handback {
    touched: Vec<Arc<Inbox>>,
}

impl Handback {
    /// Answers one append (directly, or through its worker's inbox).
    pub fn answer(&mut self, reply: Reply, outcome: Outcome) {
        match reply.inbox {
            None => {
                let _ = reply.done.send(outcome);
            }
            Some(inbox) => {
                inbox
                    .outcomes
                    .lock()
                    .expect("inbox lock")
                    .push((reply.done, outcome));
                if !self.touched.iter().any(|t| Arc::ptr_eq(t, &inbox)) {
                    self.touched.push(inbox);
                }
            }
        }
    }

    /// Wakes every inbox answered into since the last flush.
    pub fn flush(&mut self) {
        for inbox in self.touched.drain(..) {
            inbox.ready.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_flush_delivers_every_outcome_of_a_batch_on_the_worker_thread() {
        let local = tokio::task::LocalSet::new();
        local
            .run_until(async {
                let inbox = Inbox::for_this_worker();
                assert!(
                    Arc::ptr_eq(&inbox, &Inbox::for_this_worker()),
                    "one per thread"
                );
                let mut waiting = Vec::new();
                let mut replies = Vec::new();
                for _ in 0..3 {
                    let (done, durable) = oneshot::channel();
                    replies.push(Reply::new(done, Some(Arc::clone(&inbox))));
                    waiting.push(durable);
                }
                // The writer's side runs on its own thread, as in the service.
                std::thread::spawn(move || {
                    let mut handback = Handback::default();
                    for (seq, reply) in replies.into_iter().enumerate() {
                        handback.answer(reply, Ok(seq as u64));
                    }
                    assert_eq!(handback.touched.len(), 1, "one inbox to wake");
                    handback.flush();
                })
                .join()
                .unwrap();
                for (seq, durable) in waiting.into_iter().enumerate() {
                    assert_eq!(durable.await.unwrap().unwrap(), seq as u64);
                }
            })
            .await;
    }
}
