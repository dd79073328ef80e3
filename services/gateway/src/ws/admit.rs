//! Who may open a socket: the origin check and the connection cap.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use actix_web::http::header;
use actix_web::HttpRequest;
use prometheus_client::metrics::gauge::Gauge;

use crate::config::WebSocketSettings;
use crate::error::GatewayError;

/// Whether a browser page at the request's `Origin` may open a socket.
/// No `Origin` (not a browser) is always allowed; with `allowed` empty only
/// the gateway's own pages are (the origin's host is the `Host` asked for).
pub fn check_origin(req: &HttpRequest, allowed: &[String]) -> Result<(), GatewayError> {
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or_default();
    let ok = if allowed.is_empty() {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok());
        let origin_host = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"));
        matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
    } else {
        allowed
            .iter()
            .any(|a| a == "*" || a.trim_end_matches('/').eq_ignore_ascii_case(origin))
    };
    if ok {
        Ok(())
    } else {
        Err(GatewayError::OriginNotAllowed {
            origin: origin.chars().take(200).collect(),
        })
    }
}

/// The open-socket count shared by every endpoint.
#[derive(Debug, Default)]
pub struct Slots {
    open: AtomicUsize,
}

/// One socket's slot, given back when dropped.
#[derive(Debug)]
pub struct Slot {
    slots: Arc<Slots>,
    gauge: Gauge,
}

impl Slots {
    /// Takes a slot if fewer than `websocket.max_connections` are open; the
    /// endpoint's `gauge` counts it while it lives.
    pub fn take(
        self: &Arc<Self>,
        settings: &WebSocketSettings,
        gauge: Gauge,
    ) -> Result<Slot, GatewayError> {
        let limit = settings.max_connections;
        self.open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| {
                (open < limit).then_some(open + 1)
            })
            .map_err(|_| GatewayError::TooManyConnections { limit })?;
        gauge.inc();
        Ok(Slot {
            slots: Arc::clone(self),
            gauge,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.gauge.dec();
        self.slots.open.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn request(headers: &[(&str, &str)], peer: &str) -> HttpRequest {
        let mut req = TestRequest::default().peer_addr(peer.parse().unwrap());
        for (name, value) in headers {
            req = req.insert_header((*name, *value));
        }
        req.to_http_request()
    }

    #[test]
    fn only_the_gateways_own_pages_by_default() {
        let own = request(
            &[("host", "gw:8082"), ("origin", "http://gw:8082")],
            "10.0.0.1:1",
        );
        assert!(check_origin(&own, &[]).is_ok());
        let other = request(
            &[("host", "gw:8082"), ("origin", "https://evil.example")],
            "10.0.0.1:1",
        );
        assert!(matches!(
            check_origin(&other, &[]),
            Err(GatewayError::OriginNotAllowed { .. })
        ));
        let cli = request(&[("host", "gw:8082")], "10.0.0.1:1");
        assert!(check_origin(&cli, &[]).is_ok());
    }

    #[test]
    fn configured_origins_replace_the_default() {
        let allowed = vec!["https://app.example".to_owned()];
        let app = request(
            &[("host", "gw"), ("origin", "https://app.example")],
            "10.0.0.1:1",
        );
        assert!(check_origin(&app, &allowed).is_ok());
        let own = request(&[("host", "gw"), ("origin", "http://gw")], "10.0.0.1:1");
        assert!(check_origin(&own, &allowed).is_err());
        let any = vec!["*".to_owned()];
        assert!(check_origin(&own, &any).is_ok());
    }
}
