//! Whether a backing service (PostgreSQL, S3, …) answers, as the stores
//! that depend on it learn from their requests: kept for `/readyz`, and
//! logged once each time it changes (a warning when lost, never an error:
//! the service cannot mend it, and no client caused it).

use std::fmt::Display;
use std::sync::atomic::{AtomicBool, Ordering};

/// The last word on whether one backing service answers.
#[derive(Debug)]
pub struct Reachability {
    /// The service, as log lines name it (`PostgreSQL`).
    what: &'static str,
    /// What clients see while it is away (`posts are answered 503 …`).
    while_away: &'static str,
    reachable: AtomicBool,
}

impl Reachability {
    /// Reachable until a request says otherwise.
    pub const fn new(what: &'static str, while_away: &'static str) -> Self {
        Self {
            what,
            while_away,
            reachable: AtomicBool::new(true),
        }
    }

    /// Whether the last request got an answer.
    pub fn is_reachable(&self) -> bool {
        self.reachable.load(Ordering::Relaxed)
    }

    /// A request could not reach it: logged if it was reachable until now.
    pub fn lost(&self, why: &dyn Display) {
        if self.reachable.swap(false, Ordering::Relaxed) {
            tracing::warn!(error = %why, "lost {}; {}", self.what, self.while_away);
        }
    }

    /// A request got an answer: logged if it was lost until now.
    pub fn answered(&self) {
        if !self.reachable.swap(true, Ordering::Relaxed) {
            tracing::info!("{} is reachable again", self.what);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_follows_the_last_outcome() {
        let service = Reachability::new("S3", "uploads wait");
        assert!(service.is_reachable());
        service.lost(&"refused");
        service.lost(&"refused again");
        assert!(!service.is_reachable());
        service.answered();
        assert!(service.is_reachable());
    }
}
