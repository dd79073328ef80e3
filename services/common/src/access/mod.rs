//! Who may read what was stored: the credentials of the whole set, their
//! scopes, and the slowing down of clients that keep guessing.
//!
//! Intake is public; reading stored items, following the event feed and
//! (later) deleting need a bearer token. One table, `[access]`, is read by
//! every service, so one `INLET_ADMIN_TOKEN` works across the set.
//!
//! # Layout
//! - [`settings`]: the `[access]` table and [`Secret`], a value that never prints.
//! - [`credentials`]: the configured tokens, their [`Scope`]s, the constant-time check.
//! - [`throttle`]: failed attempts per client address, and when to stop listening.
//! - [`publish_token`]: the secret publishers send to the gateway's ingest.

pub mod credentials;
pub mod publish_token;
pub mod settings;
pub mod throttle;

pub use credentials::{Credentials, Denied, Scope};
pub use publish_token::PublishToken;
pub use settings::{AccessSettings, Secret};
pub use throttle::FailureThrottle;
