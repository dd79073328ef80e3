//! `--healthcheck`: the service binary asks its own `/readyz` and exits 0 or 1,
//! so a container image needs no shell, curl or wget for its HEALTHCHECK.
//!
//! The probe runs every few seconds for the life of a container, so it asks
//! not to be traced (a W3C `traceparent` with the sampled flag off): Jaeger
//! shows requests, not a probe every five seconds.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

/// How long one probe may take; below Docker's and compose's healthcheck timeouts.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Why the service is not healthy, as the probe saw it.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// Nothing answered, or the answer did not come in time.
    #[error("no answer from {url}: {reason}")]
    Unreachable {
        /// What was asked.
        url: String,
        /// The client's reason, with its causes.
        reason: String,
    },
    /// The service answered, but not with 200.
    #[error("{url} answered {status}: {body}")]
    NotReady {
        /// What was asked.
        url: String,
        /// The status it answered with.
        status: u16,
        /// Its body: the checks that failed.
        body: String,
    },
}

/// The address a local client uses to reach a listener bound to `listen`:
/// a wildcard bind (`0.0.0.0`, `::`) is reached on loopback.
pub fn local_address(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}

/// Asks `GET /readyz` on the listener bound to `listen`, with `token` as a
/// bearer credential when given (a main listener asks for one); blocking.
///
/// Must not be called from inside an async runtime (the blocking client runs one).
pub fn probe(listen: SocketAddr, token: Option<&str>, timeout: Duration) -> Result<(), ProbeError> {
    let url = format!("http://{}/readyz", local_address(listen));
    let unreachable = |err: &dyn std::error::Error| ProbeError::Unreachable {
        url: url.clone(),
        reason: crate::report::with_causes(err),
    };
    crate::crypto::install_provider();
    let client = reqwest::blocking::Client::builder()
        .timeout(timeout)
        .no_proxy()
        .build()
        .map_err(|e| unreachable(&e))?;
    let mut request = client
        .get(&url)
        .header("traceparent", unsampled_traceparent());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().map_err(|e| unreachable(&e))?;
    let status = response.status();
    if status == reqwest::StatusCode::OK {
        return Ok(());
    }
    let body = response.text().unwrap_or_default();
    Err(ProbeError::NotReady {
        url,
        status: status.as_u16(),
        body: body.trim().to_owned(),
    })
}

/// A `traceparent` whose sampled flag is off, so a parent-based sampler (the
/// OpenTelemetry default) records nothing for the request. Its ids only need
/// to be valid (non-zero), not random.
fn unsampled_traceparent() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let trace_id = (nanos << 32) | u128::from(std::process::id()) | 1;
    format!("00-{trace_id:032x}-{:016x}-00", std::process::id() | 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_binds_are_probed_on_loopback() {
        let v4: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        assert_eq!(local_address(v4), "127.0.0.1:8080".parse().unwrap());
        let v6: SocketAddr = "[::]:9090".parse().unwrap();
        assert_eq!(local_address(v6), "[::1]:9090".parse().unwrap());
        let fixed: SocketAddr = "10.1.2.3:80".parse().unwrap();
        assert_eq!(local_address(fixed), fixed);
    }

    #[test]
    fn the_probe_asks_not_to_be_sampled() {
        let header = unsampled_traceparent();
        let parts: Vec<&str> = header.split('-').collect();
        assert_eq!(parts.len(), 4, "{header}");
        assert_eq!((parts[0], parts[3]), ("00", "00"), "{header}");
        assert_eq!((parts[1].len(), parts[2].len()), (32, 16), "{header}");
        assert!(parts[1].chars().any(|c| c != '0') && parts[2].chars().any(|c| c != '0'));
    }

    #[test]
    fn nothing_listening_is_unreachable() {
        // Bind then drop, so the port is known to be closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let err = probe(
            SocketAddr::from(([127, 0, 0, 1], port)),
            None,
            PROBE_TIMEOUT,
        )
        .unwrap_err();
        assert!(matches!(err, ProbeError::Unreachable { .. }), "{err}");
    }
}
