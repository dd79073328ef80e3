//! Whether PostgreSQL answers, for `/readyz` (check `postgres`): learnt
//! from every commit and from a ping every [`PING_EVERY`], and logged once
//! each time it changes.

use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::Pool;
use inlet_common::reachability::Reachability;
use tokio::task::JoinHandle;

use super::StoreError;

/// How often the store asks PostgreSQL whether it is there.
pub const PING_EVERY: Duration = Duration::from_secs(2);

/// The last word on whether PostgreSQL answers.
#[derive(Debug)]
pub(super) struct Health {
    reachability: Reachability,
}

impl Health {
    /// Reachable: the store has just connected.
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            reachability: Reachability::new(
                "PostgreSQL",
                "posts are answered 503 until it is back",
            ),
        })
    }

    /// Whether the last commit or ping got through.
    pub fn is_reachable(&self) -> bool {
        self.reachability.is_reachable()
    }

    /// Learns from an outcome: only "could not reach it" counts against.
    pub fn record<T>(&self, outcome: &Result<T, StoreError>) {
        match outcome {
            Err(StoreError::Unavailable(why)) => self.reachability.lost(why),
            _ => self.reachability.answered(),
        }
    }

    /// Pings through `pool` every [`PING_EVERY`] until aborted.
    pub fn watch(self: &Arc<Self>, pool: Pool, timeout: Duration) -> JoinHandle<()> {
        let health = Arc::clone(self);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(PING_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                let outcome = match tokio::time::timeout(timeout, ping(&pool)).await {
                    Ok(outcome) => outcome,
                    Err(_) => Err(StoreError::Unavailable(
                        "PostgreSQL did not answer a ping".into(),
                    )),
                };
                health.record(&outcome);
            }
        })
    }
}

async fn ping(pool: &Pool) -> Result<(), StoreError> {
    let client = pool.get().await.map_err(super::pool_error)?;
    client
        .simple_query("SELECT 1")
        .await
        .map_err(super::classify)?;
    Ok(())
}
