//! Failed attempts per client address: a guesser is slowed to a few tries a
//! second, and nobody else notices.
//!
//! Each address has a bucket of `failure_burst` tries that refills at
//! `failures_per_second`. A failure takes one try; an address with none left
//! is answered 429 before its credential is even looked at, so guessing
//! faster than the refill learns nothing. A right credential costs nothing
//! and is never held up by other clients' failures. IPv6 addresses count
//! by their /64, which one host usually owns whole.
//!
//! (`governor` has keyed limiters, but no way to ask "is there a try left?"
//! without taking one, which is what refusing before the check needs.)

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most addresses tracked at once; past it, addresses whose buckets have
/// refilled are forgotten, and if none has, the oldest is.
const MAX_TRACKED: usize = 65_536;

/// Tries left for one address.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tries: f64,
    updated: Instant,
}

/// Failed attempts per client address.
#[derive(Debug)]
pub struct FailureThrottle {
    burst: f64,
    per_second: f64,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

impl FailureThrottle {
    /// `burst` tries per address, earned back at `per_second`.
    pub fn new(burst: u32, per_second: u32) -> Self {
        Self {
            burst: f64::from(burst.max(1)),
            per_second: f64::from(per_second.max(1)),
            buckets: Mutex::default(),
        }
    }

    /// `Err(wait)` if `client` has no try left now: how long until it has one.
    pub fn check(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let key = key_of(client);
        let buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let Some(bucket) = buckets.get(&key) else {
            return Ok(());
        };
        let tries = self.refilled(bucket, now);
        if tries >= 1.0 {
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - tries) / self.per_second))
        }
    }

    /// Takes one try from `client` for a failed attempt.
    pub fn record_failure(&self, client: IpAddr, now: Instant) {
        let key = key_of(client);
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_TRACKED && !buckets.contains_key(&key) {
            self.forget_some(&mut buckets, now);
        }
        let tries = match buckets.get(&key) {
            Some(bucket) => self.refilled(bucket, now),
            None => self.burst,
        };
        buckets.insert(
            key,
            Bucket {
                tries: (tries - 1.0).max(0.0),
                updated: now,
            },
        );
    }

    /// How many addresses are being tracked.
    pub fn tracked(&self) -> usize {
        self.buckets.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    fn refilled(&self, bucket: &Bucket, now: Instant) -> f64 {
        let earned = now.saturating_duration_since(bucket.updated).as_secs_f64() * self.per_second;
        (bucket.tries + earned).min(self.burst)
    }

    fn forget_some(&self, buckets: &mut HashMap<IpAddr, Bucket>, now: Instant) {
        buckets.retain(|_, bucket| self.refilled(bucket, now) < self.burst);
        if buckets.len() >= MAX_TRACKED {
            if let Some(oldest) = buckets
                .iter()
                .min_by_key(|(_, bucket)| bucket.updated)
                .map(|(key, _)| *key)
            {
                buckets.remove(&oldest);
            }
        }
    }
}

/// The key an address counts under: itself, or for IPv6 its /64.
fn key_of(client: IpAddr) -> IpAddr {
    match client {
        IpAddr::V4(_) => client,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUESSER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 7));
    const OTHER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 8));

    #[test]
    fn a_burst_of_failures_is_stopped_and_earned_back_at_the_rate() {
        let throttle = FailureThrottle::new(3, 2);
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(throttle.check(GUESSER, start), Ok(()));
            throttle.record_failure(GUESSER, start);
        }
        let wait = throttle
            .check(GUESSER, start)
            .expect_err("the burst is spent");
        assert_eq!(wait, Duration::from_millis(500));
        assert_eq!(
            throttle.check(OTHER, start),
            Ok(()),
            "others are not slowed"
        );
        let later = start + Duration::from_millis(500);
        assert_eq!(
            throttle.check(GUESSER, later),
            Ok(()),
            "one try earned back"
        );
        throttle.record_failure(GUESSER, later);
        assert!(throttle.check(GUESSER, later).is_err());
        // Over ten seconds, a guesser gets the burst plus the rate, no more.
        let mut allowed = 0;
        for tick in 0..1000u64 {
            let now = later + Duration::from_millis(10 * tick);
            if throttle.check(GUESSER, now).is_ok() {
                allowed += 1;
                throttle.record_failure(GUESSER, now);
            }
        }
        assert!(
            (19..=21).contains(&allowed),
            "{allowed} tries in 10 s at 2/s"
        );
    }

    #[test]
    fn an_ipv6_host_counts_by_its_prefix() {
        let throttle = FailureThrottle::new(1, 1);
        let now = Instant::now();
        throttle.record_failure("2001:db8:1:2::1".parse().unwrap(), now);
        assert!(throttle
            .check("2001:db8:1:2::ffff".parse().unwrap(), now)
            .is_err());
        assert!(throttle
            .check("2001:db8:1:3::1".parse().unwrap(), now)
            .is_ok());
        throttle.record_failure("::ffff:192.0.2.9".parse().unwrap(), now);
        assert!(throttle.check("192.0.2.9".parse().unwrap(), now).is_err());
    }

    #[test]
    fn tracking_is_bounded() {
        let throttle = FailureThrottle::new(2, 1);
        let now = Instant::now();
        for n in 0..(MAX_TRACKED as u32 + 10) {
            throttle.record_failure(IpAddr::V4(n.into()), now);
        }
        assert!(throttle.tracked() <= MAX_TRACKED);
    }
}
