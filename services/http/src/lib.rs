//! What every Inlet service that speaks HTTP through actix-web shares, on top
//! of `inlet-common` (which has no actix in it).
//!
//! # Layout
//! - [`access`]: reading what was stored needs a credential (bearer token or page session).
//! - [`serve`]: the one way to build a service's `HttpServer` (middleware
//!   order, settings, health and metrics routes, 404 fallback, the
//!   "listening" line).
//! - [`settings`]: the `[http]` config table.
//! - [`body`]: content type, declared length, capped and timed body reads.
//! - [`download`]: what a client sent, handed back as a hardened attachment.
//! - [`early_close`]: an answer that leaves the body unread closes the connection, never drains it.
//! - [`errors`]: the one mapping from failures to HTTP answers.
//! - [`expect`]: `Expect: 100-continue` answered 413 when the declared body is too large.
//! - [`routes`]: GET-or-HEAD routes, 405 with `Allow`, 404.
//! - [`health`]: `GET /healthz` and `GET /readyz`.
//! - [`metrics`]: HTTP request metrics and `GET /metrics`.
//! - [`refused`]: refusals of a route counted by error code, and logged, in one place.
//! - [`refusals`]: actix's own 400/431 answers get a readable body and a WARN line.
//! - [`head_deadline`]: every request head of a kept-alive connection has the head deadline.
//! - [`paging`]: `?limit=&cursor=` and the page envelope of every list endpoint.
//! - [`page`]: one look for every page (shared stylesheet, header and nav).
//! - [`request_span`]: the OpenTelemetry server span of every request.
//! - [`access_log`]: one log line per request.
//! - [`client_address`]: the client's address, through trusted proxies.
//! - [`allowed_hosts`]: `Host` must name this service (DNS rebinding).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod access;
pub mod access_log;
pub mod allowed_hosts;
pub mod body;
pub mod client_address;
pub mod download;
pub mod early_close;
pub mod errors;
pub mod expect;
pub mod head_deadline;
pub mod health;
pub mod metrics;
pub mod page;
pub mod paging;
pub mod refusals;
pub mod refused;
pub mod request_span;
pub mod routes;
pub mod serve;
pub mod settings;

pub use serve::{run_until_stopped, serve, with_state, Service};
