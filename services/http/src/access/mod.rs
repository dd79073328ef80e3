//! Reading what was stored needs a credential: the check every read route
//! goes through, as middleware, and the page session that carries it for
//! browsers.
//!
//! A request proves itself with `Authorization: Bearer <token>`, or from a
//! page of the set with the signed session cookie `POST /session` gives
//! (a browser's WebSocket cannot send a header, and the long-lived token
//! stays out of URLs). Every refusal is counted in
//! `inlet_access_denied_total{reason}`; a wrong or under-scoped credential
//! is logged at WARN with the client's address (never the credential), and
//! an address that keeps failing is answered 429 before its credential is
//! looked at (see [`inlet_common::access::throttle`]).
//!
//! # Layout
//! - [`guard`]: the [`Access`] app data and the `require_*` middleware.
//! - [`error`]: [`AccessError`], with its status and `WWW-Authenticate`.
//! - [`session_key`]: the signed page-session cookie: its key, what it says.
//! - [`session`]: `/session`, signing in and out.

pub mod error;
pub mod guard;
pub mod session;
pub mod session_key;

pub use error::AccessError;
pub use guard::{
    from_own_page, guard_operations, require_delete, require_read, Access, OperationsNeedCredential,
};
