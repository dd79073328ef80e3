//! What one run measured.

use std::time::Duration;

use serde::Serialize;

/// One run, as one JSON line.
#[derive(Debug, Serialize)]
pub struct Report {
    /// `uploads`.
    pub protocol: &'static str,
    /// What was sent, e.g. `multipart` or `put`.
    pub mode: String,
    /// Free text naming the server.
    pub label: String,
    pub connections: usize,
    pub requests: usize,
    pub files: usize,
    pub file_bytes: u64,
    /// Requests that did not get a 2xx answer.
    pub errors: usize,
    pub seconds: f64,
    /// File bytes per second, in MB (10^6).
    pub mb_per_s: f64,
    pub files_per_s: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// The server's resident memory before the run, if its pid was given.
    pub rss_before_bytes: Option<u64>,
    /// The server's peak resident memory (VmHWM) after the run.
    pub rss_peak_bytes: Option<u64>,
}

/// The `q` quantile (0..=1) of `sorted` latencies, in milliseconds.
pub fn quantile_ms(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let at = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[at].as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_pick_the_nearest_rank() {
        let sorted: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(quantile_ms(&sorted, 0.5), 51.0);
        assert_eq!(quantile_ms(&sorted, 0.99), 99.0);
        assert_eq!(quantile_ms(&sorted, 0.0), 1.0);
        assert_eq!(quantile_ms(&[], 0.5), 0.0);
    }
}
