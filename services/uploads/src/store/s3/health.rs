//! Whether S3 answers, for `/readyz` (check `s3`): learnt from every
//! request the store makes (a ping included: `Bucket::watch`), and logged
//! once each time it changes.

use std::sync::Arc;

use inlet_common::reachability::Reachability;

use super::client::Failure;

/// The last word on whether S3 answers.
#[derive(Debug)]
pub struct Health {
    reachability: Reachability,
}

impl Health {
    /// Reachable until a request says otherwise.
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            reachability: Reachability::new("S3", "uploads are answered 503 until it is back"),
        })
    }

    /// Whether the last request got an answer.
    pub fn is_reachable(&self) -> bool {
        self.reachability.is_reachable()
    }

    /// Learns from an outcome: only "could not reach it" counts against.
    pub fn record<T>(&self, outcome: &Result<T, Failure>) {
        match outcome {
            Err(Failure::Unreachable(why)) => self.reachability.lost(why),
            _ => self.reachability.answered(),
        }
    }
}
