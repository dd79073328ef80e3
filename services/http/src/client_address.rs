//! The client's address, as every log line and metric names it
//! (`client.address`): the socket peer's, or, when the peer is a proxy the
//! operator trusts (`http.trusted_proxies`), the address that proxy reports
//! in `X-Forwarded-For`.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use actix_web::http::header::HeaderMap;
use actix_web::HttpRequest;
use ipnet::IpNet;
use serde::Serialize;

/// A trusted proxy: one address (`10.0.0.5`) or a block (`172.16.0.0/12`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyNet(pub IpNet);

impl ProxyNet {
    /// Whether `ip` is in this block.
    pub fn contains(&self, ip: &IpAddr) -> bool {
        self.0.contains(ip)
    }
}

impl FromStr for ProxyNet {
    type Err = ipnet::AddrParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.parse::<IpAddr>() {
            Ok(ip) => Ok(Self(IpNet::from(ip))),
            Err(_) => text.parse().map(Self),
        }
    }
}

impl Serialize for ProxyNet {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

/// The proxies whose `X-Forwarded-For` is believed; app data of every
/// service (set by [`crate::serve`] from `http.trusted_proxies`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<ProxyNet>);

impl TrustedProxies {
    /// Trusts `proxies`; empty trusts no one.
    pub fn new(proxies: Vec<ProxyNet>) -> Self {
        Self(proxies)
    }

    fn trusts(&self, ip: &IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(ip))
    }

    /// The client behind `peer`: `peer` itself unless it is trusted; then,
    /// reading `X-Forwarded-For` right to left (each hop appends the address
    /// it saw), the first address no trusted proxy added. A value that is
    /// not an address stops the walk at the last one believed.
    pub fn client_of(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if self.0.is_empty() || !self.trusts(&peer) {
            return peer;
        }
        // An unreadable value reads as one bad item: the walk stops there.
        let items: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .flat_map(|value| value.to_str().unwrap_or_default().split(','))
            .collect();
        let mut nearest = peer;
        for item in items.iter().rev() {
            let Ok(ip) = item.trim().parse::<IpAddr>() else {
                break;
            };
            if !self.trusts(&ip) {
                return ip;
            }
            nearest = ip;
        }
        nearest
    }
}

/// A client's address for a log field; empty when the peer is unknown.
/// Formatted only if the line is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub Option<IpAddr>);

impl fmt::Display for ClientAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(ip) => ip.fmt(f),
            None => Ok(()),
        }
    }
}

/// The client's address of `req`, by the service's [`TrustedProxies`].
pub fn client_address(req: &HttpRequest) -> ClientAddress {
    of(
        req.peer_addr().map(|a| a.ip()),
        req.headers(),
        req.app_data(),
    )
}

/// [`client_address`] from a request's parts.
fn of(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: Option<&TrustedProxies>,
) -> ClientAddress {
    ClientAddress(peer.map(|peer| match trusted {
        Some(trusted) => trusted.client_of(peer, headers),
        None => peer,
    }))
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(
                HeaderName::from_static("x-forwarded-for"),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        headers
    }

    fn trusting(nets: &[&str]) -> TrustedProxies {
        TrustedProxies::new(nets.iter().map(|n| n.parse().unwrap()).collect())
    }

    #[test]
    fn a_trusted_proxy_is_believed_up_to_the_first_address_it_did_not_add() {
        let trusted = trusting(&["10.0.0.0/8"]);
        let headers = forwarded(&["203.0.113.9, 198.51.100.7, 10.1.1.1"]);
        assert_eq!(
            trusted.client_of(ip("10.0.0.2"), &headers),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn a_spoofed_header_from_an_untrusted_peer_is_ignored() {
        let trusted = trusting(&["10.0.0.0/8"]);
        let headers = forwarded(&["203.0.113.9"]);
        assert_eq!(
            trusted.client_of(ip("192.0.2.1"), &headers),
            ip("192.0.2.1")
        );
        // Trusting no one ignores it from everyone.
        let nobody = TrustedProxies::default();
        assert_eq!(nobody.client_of(ip("10.0.0.2"), &headers), ip("10.0.0.2"));
    }

    #[test]
    fn without_a_header_or_with_only_proxies_in_it_the_nearest_proxy_is_named() {
        let trusted = trusting(&["10.0.0.0/8"]);
        assert_eq!(
            trusted.client_of(ip("10.0.0.2"), &HeaderMap::new()),
            ip("10.0.0.2")
        );
        let headers = forwarded(&["10.9.9.9"]);
        assert_eq!(trusted.client_of(ip("10.0.0.2"), &headers), ip("10.9.9.9"));
    }

    #[test]
    fn a_value_that_is_not_an_address_stops_the_walk() {
        let trusted = trusting(&["10.0.0.0/8"]);
        // The client could have written "unknown, 10.7.7.7" itself: neither
        // that nor anything left of it is believed.
        let headers = forwarded(&["203.0.113.9, unknown, 10.7.7.7"]);
        assert_eq!(trusted.client_of(ip("10.0.0.2"), &headers), ip("10.7.7.7"));
    }

    #[test]
    fn several_header_lines_read_as_one_list_in_order() {
        let trusted = trusting(&["10.0.0.0/8", "2001:db8::/32"]);
        let headers = forwarded(&["198.51.100.7", "2001:db8::1, 10.3.3.3"]);
        assert_eq!(
            trusted.client_of(ip("10.0.0.2"), &headers),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn an_unknown_peer_is_an_empty_field() {
        assert_eq!(of(None, &HeaderMap::new(), None).to_string(), "");
        let peer = Some(ip("192.0.2.3"));
        assert_eq!(of(peer, &HeaderMap::new(), None).to_string(), "192.0.2.3");
    }
}
