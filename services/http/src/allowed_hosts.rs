//! Which `Host` names a service answers to (`http.allowed_hosts`).
//!
//! DNS rebinding: a page on `evil.example` has its name made to resolve to
//! our address, and the browser, seeing one origin, lets the page read our
//! answers. Every such request carries `Host: evil.example`, and the
//! gateway's same-origin check (Origin against Host) passes because both
//! say the same wrong thing. So the Host itself is checked against the
//! names the service is meant to be reached by, as Django's `ALLOWED_HOSTS`
//! and Vite's `allowedHosts` do. `/healthz` and `/readyz` are not checked,
//! so probes can use any name.

use std::sync::Arc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::Error;
use inlet_common::code::Code;

use crate::errors::{error_response, PublicError};

/// The names a service answers to; `*` allows every name.
#[derive(Debug, Clone)]
pub struct AllowedHosts(Arc<[String]>);

impl AllowedHosts {
    /// Allows `names` (compared without regard to case, ports ignored).
    pub fn new(names: &[String]) -> Self {
        Self(
            names
                .iter()
                .map(|n| n.trim().trim_end_matches('.').to_ascii_lowercase())
                .collect(),
        )
    }

    /// Whether a request with this `Host` header may be answered. A request
    /// without one (HTTP/1.0) is: no browser sends it that way.
    pub fn allows(&self, host: Option<&str>) -> bool {
        let Some(host) = host else {
            return true;
        };
        // No allocation: this runs on every request.
        let name = host_name(host);
        self.0
            .iter()
            .any(|allowed| allowed == "*" || allowed.eq_ignore_ascii_case(name))
    }
}

/// The name part of a `Host` value: no port, no trailing dot.
fn host_name(host: &str) -> &str {
    let host = host.trim();
    let name = if host.starts_with('[') {
        // An IPv6 literal keeps its brackets: `[::1]:8080` → `[::1]`.
        host.find(']').map_or(host, |end| &host[..=end])
    } else {
        host.rsplit_once(':').map_or(host, |(name, _port)| name)
    };
    name.trim_end_matches('.')
}

/// A request for a name the service does not answer to.
#[derive(Debug, thiserror::Error)]
#[error("this service does not answer to the host name {host:?} (http.allowed_hosts)")]
pub struct HostNotAllowed {
    host: String,
}

impl PublicError for HostNotAllowed {
    fn code(&self) -> Code {
        Code::HostNotAllowed
    }
}

/// Middleware: refuses a request whose `Host` is not allowed (403).
pub async fn check_host(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let host = req
        .headers()
        .get(header::HOST)
        .map(|v| v.to_str().unwrap_or("\u{fffd}"));
    let exempt = matches!(req.path(), "/healthz" | "/readyz");
    let refused = !exempt
        && req
            .app_data::<AllowedHosts>()
            .is_some_and(|allowed| !allowed.allows(host));
    if refused {
        let host: String = host.unwrap_or_default().chars().take(100).collect();
        tracing::info!(host = %host, url.path = req.path(), "request for a host name not allowed: 403");
        let response = error_response(&HostNotAllowed { host });
        return Ok(req.into_response(response).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_compared_without_port_case_or_trailing_dot() {
        let allowed = AllowedHosts::new(&["localhost".into(), "127.0.0.1".into(), "[::1]".into()]);
        for host in [
            "localhost",
            "LOCALHOST:8080",
            "localhost.:80",
            "127.0.0.1:8082",
            "[::1]:8080",
            "[::1]",
        ] {
            assert!(allowed.allows(Some(host)), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:8080",
            "localhost.evil.example",
            "127.0.0.2",
            "[::2]:80",
            "",
        ] {
            assert!(!allowed.allows(Some(host)), "{host}");
        }
        assert!(allowed.allows(None));
        assert!(AllowedHosts::new(&["*".into()]).allows(Some("anything.example")));
    }
}
