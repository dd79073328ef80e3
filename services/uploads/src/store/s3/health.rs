//! Whether S3 answers, for `/readyz` (check `s3`): learnt from every
//! request the store makes (a ping included: `Bucket::watch`), and logged
//! once each time it changes.

use super::client::Failure;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The last word on whether S3 answers.
#[derive(Debug)]
pub struct Health {
    reachable: AtomicBool,
}

impl Health {
    /// Reachable until a request says otherwise.
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            reachable: AtomicBool::new(true),
        })
    }

    /// Whether the last request got an answer.
    pub fn is_reachable(&self) -> bool {
        self.reachable.load(Ordering::Relaxed)
    }

    /// Learns from an outcome: only "could not reach it" counts against.
    pub fn record<T>(&self, outcome: &Result<T, Failure>) {
        match outcome {
            Err(Failure::Unreachable(why)) => {
                if self.reachable.swap(false, Ordering::Relaxed) {
                    tracing::warn!(error = %why, "lost S3; uploads are answered 503 until it is back");
                }
            }
            _ => {
                if !self.reachable.swap(true, Ordering::Relaxed) {
                    tracing::info!("S3 is reachable again");
                }
            }
        }
    }
}
