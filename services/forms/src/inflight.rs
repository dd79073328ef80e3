//! The global in-flight body budget (`limits.max_inflight_body_bytes`).
//!
//! Bodies are read whole into memory, so without a bound memory grows with
//! connections × `limits.max_body_bytes`. Each request reserves room for its
//! body before reading it (its declared length; a chunked body grows its
//! room as it arrives) and gives it back when it is answered. When the budget is spent a
//! new body is refused at once with 503 and `Retry-After`, and the service
//! keeps answering everything else.

use std::sync::Arc;

use prometheus_client::metrics::gauge::Gauge;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Budgets are counted in KiB so that a single reservation always fits the
/// semaphore's per-call limit (`u32` permits).
const UNIT: u64 = 1024;

/// Room for request bodies, shared by every connection.
#[derive(Debug, Clone)]
pub struct InflightBudget {
    units: Arc<Semaphore>,
    /// Bytes reserved now (`inlet_forms_inflight_body_bytes`).
    reserved: Gauge,
}

/// Room held for one body; given back when dropped.
#[derive(Debug)]
pub struct Reservation {
    units: OwnedSemaphorePermit,
    reserved: Gauge,
    budget: InflightBudget,
}

impl Reservation {
    /// Grows the room to hold `bytes` (a chunked body as it arrives); `false`
    /// when the budget has not that much left.
    pub fn try_grow_to(&mut self, bytes: u64) -> bool {
        let held = self.units.num_permits() as u64;
        let wanted = units_for(bytes);
        if wanted <= held {
            return true;
        }
        match self.budget.try_units(wanted - held) {
            Some(more) => {
                self.units.merge(more);
                true
            }
            None => false,
        }
    }
}

/// Units that hold `bytes` (at least one, so every body counts).
fn units_for(bytes: u64) -> u64 {
    bytes.div_ceil(UNIT).max(1)
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.reserved.dec_by(bytes_of(self.units.num_permits()));
    }
}

fn bytes_of(units: usize) -> i64 {
    i64::try_from(units as u64 * UNIT).unwrap_or(i64::MAX)
}

impl InflightBudget {
    /// A budget of `bytes`, its use shown in `reserved`.
    pub fn new(bytes: u64, reserved: Gauge) -> Self {
        let units = usize::try_from(bytes / UNIT).unwrap_or(Semaphore::MAX_PERMITS);
        Self {
            units: Arc::new(Semaphore::new(units.min(Semaphore::MAX_PERMITS))),
            reserved,
        }
    }

    /// Room for a body of `bytes`, or `None` when the budget has not that much left.
    pub fn try_reserve(&self, bytes: u64) -> Option<Reservation> {
        let permit = self.try_units(units_for(bytes))?;
        Some(Reservation {
            units: permit,
            reserved: self.reserved.clone(),
            budget: self.clone(),
        })
    }

    fn try_units(&self, units: u64) -> Option<OwnedSemaphorePermit> {
        let units = u32::try_from(units).ok()?;
        let permit = Arc::clone(&self.units).try_acquire_many_owned(units).ok()?;
        self.reserved.inc_by(bytes_of(permit.num_permits()));
        Some(permit)
    }

    /// Bytes not reserved now (the gauge shows the service's side).
    #[cfg(test)]
    fn available(&self) -> u64 {
        self.units.available_permits() as u64 * UNIT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_are_refused_once_the_budget_is_spent_and_come_back_when_dropped() {
        let gauge = Gauge::default();
        let budget = InflightBudget::new(4 * 1024 * 1024, gauge.clone());
        let first = budget.try_reserve(2 * 1024 * 1024).expect("room for one");
        let second = budget.try_reserve(2 * 1024 * 1024).expect("room for two");
        assert_eq!(gauge.get(), 4 * 1024 * 1024);
        assert!(budget.try_reserve(1).is_none(), "the budget is spent");
        drop(first);
        assert!(budget.try_reserve(2 * 1024 * 1024).is_some());
        drop(second);
        assert_eq!(budget.available(), 4 * 1024 * 1024);
        assert_eq!(gauge.get(), 0);
    }

    #[test]
    fn a_reservation_grows_while_there_is_room() {
        let budget = InflightBudget::new(8 * 1024, Gauge::default());
        let mut growing = budget.try_reserve(0).unwrap();
        assert!(growing.try_grow_to(5000));
        assert_eq!(budget.available(), 3 * 1024);
        assert!(growing.try_grow_to(4000), "already held");
        assert!(!growing.try_grow_to(9 * 1024));
        drop(growing);
        assert_eq!(budget.available(), 8 * 1024);
    }

    #[test]
    fn an_empty_body_still_takes_a_unit_and_a_huge_one_is_refused() {
        let budget = InflightBudget::new(1024, Gauge::default());
        let held = budget.try_reserve(0).expect("one unit");
        assert!(budget.try_reserve(0).is_none());
        drop(held);
        assert!(budget.try_reserve(u64::MAX).is_none());
    }
}
