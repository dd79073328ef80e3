//! The check in front of every read route.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{Error, HttpRequest};
use inlet_common::access::{AccessSettings, Credentials, Denied, FailureThrottle, Scope};
use inlet_common::metrics::Metrics;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

use super::error::AccessError;
use super::session_key::SessionKey;
use crate::client_address::client_address;

/// Why a request was refused, as the metric labels it.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeniedLabel {
    reason: &'static str,
}

/// The service's credentials, failure throttle and refusal counter; app data
/// of every HTTP service (set by [`crate::serve`]).
#[derive(Clone)]
pub struct Access(Arc<Inner>);

struct Inner {
    credentials: Credentials,
    throttle: FailureThrottle,
    denied: Family<DeniedLabel, Counter>,
    session: SessionKey,
    session_ttl: std::time::Duration,
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Access")
            .field("credentials", &self.0.credentials)
            .finish_non_exhaustive()
    }
}

impl Access {
    /// The checks `settings` configures; the refusal counter goes into `metrics`.
    pub fn new(settings: &AccessSettings, metrics: &Metrics) -> Self {
        let credentials = Credentials::from_settings(settings);
        let denied = Family::<DeniedLabel, Counter>::default();
        metrics.register(
            "inlet_access_denied",
            "Requests refused for their credential, by reason (missing, wrong, scope, not_configured, throttled)",
            denied.clone(),
        );
        if !credentials.is_configured() {
            tracing::warn!(
                "no credential is configured: nothing stored can be read until INLET_ADMIN_TOKEN is set"
            );
        }
        Self(Arc::new(Inner {
            session: SessionKey::new(&credentials),
            credentials,
            throttle: FailureThrottle::new(settings.failure_burst, settings.failures_per_second),
            denied,
            session_ttl: settings.session_ttl(),
        }))
    }

    /// The session cookie key (for [`super::session`]).
    pub(crate) fn session_key(&self) -> &SessionKey {
        &self.0.session
    }

    /// How long a page session lasts.
    pub(crate) fn session_ttl(&self) -> std::time::Duration {
        self.0.session_ttl
    }

    /// Whether `req` may do what `needed` names: by its bearer token, or
    /// without one by its page session. Refusals are counted, logged and
    /// (for a wrong credential) held against the client's address.
    pub fn check(&self, req: &HttpRequest, needed: Scope) -> Result<Scope, AccessError> {
        let client = client_address(req).0;
        let result = self.decide(req, client, needed);
        if let Err(err) = &result {
            self.refused(req, client, err);
        }
        result
    }

    /// The bearer token alone (no session), for `POST /session`.
    pub(crate) fn check_bearer(
        &self,
        req: &HttpRequest,
        needed: Scope,
    ) -> Result<Scope, AccessError> {
        let client = client_address(req).0;
        let result = self
            .throttled(client)
            .and_then(|()| self.check_token(bearer_token(req).as_deref(), client, needed));
        if let Err(err) = &result {
            self.refused(req, client, err);
        }
        result
    }

    /// A token typed into a sign-in page (not a header): checked, throttled
    /// and counted like a bearer token.
    pub(crate) fn check_typed(
        &self,
        req: &HttpRequest,
        token: &str,
        needed: Scope,
    ) -> Result<Scope, AccessError> {
        let client = client_address(req).0;
        let result = self
            .throttled(client)
            .and_then(|()| self.check_token(Some(token.trim().as_bytes()), client, needed));
        if let Err(err) = &result {
            self.refused(req, client, err);
        }
        result
    }

    /// The anti-forgery token a page of this session puts in its forms
    /// (see [`SessionKey::csrf_token`]); `None` without a session.
    pub fn csrf_token(&self, req: &HttpRequest) -> Option<String> {
        self.0.session.csrf_token(req)
    }

    /// Whether `given` is this session's anti-forgery token.
    pub fn csrf_matches(&self, req: &HttpRequest, given: &str) -> bool {
        self.0.session.csrf_matches(req, given)
    }

    fn decide(
        &self,
        req: &HttpRequest,
        client: Option<IpAddr>,
        needed: Scope,
    ) -> Result<Scope, AccessError> {
        if !self.0.credentials.is_configured() {
            return Err(Denied::NotConfigured.into());
        }
        self.throttled(client)?;
        if req.headers().contains_key(header::AUTHORIZATION) {
            return self.check_token(bearer_token(req).as_deref(), client, needed);
        }
        match self.0.session.scope_of(req) {
            // A cookie rides along with any request the browser makes, so a
            // change (a DELETE) by cookie must come from the service's own
            // page, not from another page on the same site (another port).
            Some(scope) if scope.allows(needed) && !from_own_page(req) => {
                Err(AccessError::CrossOrigin)
            }
            Some(scope) if scope.allows(needed) => Ok(scope),
            Some(_) => Err(Denied::Scope(needed).into()),
            None => Err(Denied::Missing.into()),
        }
    }

    fn throttled(&self, client: Option<IpAddr>) -> Result<(), AccessError> {
        let Some(ip) = client else { return Ok(()) };
        self.0
            .throttle
            .check(ip, Instant::now())
            .map_err(|wait| AccessError::Throttled {
                retry_after: wait.as_secs_f64().ceil().max(1.0) as u32,
            })
    }

    fn check_token(
        &self,
        token: Option<&[u8]>,
        client: Option<IpAddr>,
        needed: Scope,
    ) -> Result<Scope, AccessError> {
        let result = self.0.credentials.check(token, needed);
        if let (Err(Denied::Wrong), Some(ip)) = (&result, client) {
            self.0.throttle.record_failure(ip, Instant::now());
        }
        result.map_err(AccessError::from)
    }

    fn refused(&self, req: &HttpRequest, client: Option<IpAddr>, err: &AccessError) {
        let reason = err.reason();
        self.0.denied.get_or_create(&DeniedLabel { reason }).inc();
        let client = crate::client_address::ClientAddress(client);
        match err {
            AccessError::Denied(Denied::Wrong | Denied::Scope(_)) => tracing::warn!(
                reason,
                client.address = %client,
                http.request.method = %req.method(),
                url.path = req.path(),
                "credential refused"
            ),
            AccessError::Throttled { .. } => tracing::debug!(
                reason,
                client.address = %client,
                url.path = req.path(),
                "credential not checked: too many failures from this address"
            ),
            AccessError::Denied(Denied::Missing | Denied::NotConfigured) => tracing::info!(
                reason,
                client.address = %client,
                http.request.method = %req.method(),
                url.path = req.path(),
                "read refused"
            ),
            AccessError::CrossOrigin => tracing::warn!(
                reason,
                client.address = %client,
                http.request.method = %req.method(),
                url.path = req.path(),
                "change by page session refused: not from this service's own page"
            ),
        }
    }
}

/// Whether a request carried by a page session may act: a safe method
/// (GET, HEAD), or a change the browser says comes from the same origin
/// (`Sec-Fetch-Site: same-origin`, or an `Origin` naming this very host).
pub fn from_own_page(req: &HttpRequest) -> bool {
    if req.method().is_safe() {
        return true;
    }
    let headers = req.headers();
    if let Some(site) = headers.get("sec-fetch-site") {
        return site.as_bytes() == b"same-origin";
    }
    let (Some(origin), Some(host)) = (headers.get(header::ORIGIN), headers.get(header::HOST))
    else {
        return false;
    };
    let origin = origin.as_bytes();
    let authority = origin
        .strip_prefix(b"https://")
        .or_else(|| origin.strip_prefix(b"http://"));
    authority.is_some_and(|authority| authority.eq_ignore_ascii_case(host.as_bytes()))
}

/// The token of `Authorization: Bearer <token>`; `None` when the header is
/// missing, repeated, or of another scheme (all of which the check calls
/// missing or wrong, never guessed at).
fn bearer_token(req: &HttpRequest) -> Option<Vec<u8>> {
    let mut values = req.headers().get_all(header::AUTHORIZATION);
    let value = values.next()?;
    if values.next().is_some() {
        return Some(Vec::new());
    }
    let bytes = value.as_bytes();
    let scheme_len = "bearer ".len();
    if bytes.len() < scheme_len || !bytes[..scheme_len].eq_ignore_ascii_case(b"bearer ") {
        // Another scheme (Basic, …) is a wrong credential, not a missing one.
        return Some(Vec::new());
    }
    Some(bytes[scheme_len..].trim_ascii().to_vec())
}

/// Middleware: the request needs a credential with the read scope.
pub async fn require_read(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    require(req, next, Scope::Read).await
}

/// Middleware: the request needs a credential with the delete scope.
pub async fn require_delete(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    require(req, next, Scope::Delete).await
}

/// Whether `/healthz`, `/readyz` and `/metrics` need the read credential on
/// this listener: app data set by [`crate::serve`]. They do on a service's
/// public listener; its admin listener (`INLET_ADMIN_LISTEN`, never
/// published) serves them to anyone.
#[derive(Debug, Clone, Copy)]
pub struct OperationsNeedCredential(pub bool);

/// Middleware: `/healthz`, `/readyz` and `/metrics` need the read scope
/// where [`OperationsNeedCredential`] says so.
pub async fn guard_operations<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    let guarded = matches!(req.path(), "/healthz" | "/readyz" | "/metrics")
        && req
            .app_data::<OperationsNeedCredential>()
            .is_some_and(|needed| needed.0);
    if guarded {
        require(req, next, Scope::Read).await
    } else {
        Ok(next.call(req).await?.map_into_left_body())
    }
}

async fn require<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
    needed: Scope,
) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    let checked = match req.app_data::<Access>() {
        Some(access) => access.check(req.request(), needed),
        // A service built without access settings reads nothing out.
        None => Err(Denied::NotConfigured.into()),
    };
    match checked {
        Ok(_) => Ok(next.call(req).await?.map_into_left_body()),
        Err(err) => {
            let response = err.to_response();
            Ok(req.into_response(response).map_into_right_body())
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::Method;
    use actix_web::test::TestRequest;

    use super::from_own_page;

    fn delete_with(headers: &[(&str, &str)]) -> actix_web::HttpRequest {
        let mut req = TestRequest::default()
            .method(Method::DELETE)
            .insert_header(("host", "localhost:8080"));
        for header in headers {
            req = req.insert_header(*header);
        }
        req.to_http_request()
    }

    #[test]
    fn a_change_by_cookie_must_come_from_the_services_own_page() {
        // Reads need no proof.
        let read = TestRequest::default()
            .insert_header(("origin", "http://elsewhere.example"))
            .to_http_request();
        assert!(from_own_page(&read));
        // The browser's word, or an Origin naming this very host and port.
        assert!(from_own_page(&delete_with(&[(
            "sec-fetch-site",
            "same-origin"
        )])));
        assert!(from_own_page(&delete_with(&[(
            "origin",
            "http://localhost:8080"
        )])));
        assert!(from_own_page(&delete_with(&[(
            "origin",
            "https://LOCALHOST:8080"
        )])));
        // Another port of the same site, another site, or no word at all.
        for headers in [
            &[("sec-fetch-site", "same-site")][..],
            &[("sec-fetch-site", "cross-site")],
            &[("sec-fetch-site", "none")],
            &[("origin", "http://localhost:8081")],
            &[("origin", "http://localhost:8080.evil.example")],
            &[("origin", "null")],
            // The browser's Sec-Fetch-Site wins over an Origin that matches.
            &[
                ("sec-fetch-site", "cross-site"),
                ("origin", "http://localhost:8080"),
            ],
            &[],
        ] {
            assert!(!from_own_page(&delete_with(headers)), "{headers:?}");
        }
    }
}
