//! `inlet-smtp`: SMTP ingest into allow-listed Maildirs: samotop's command
//! parser and transaction (kept behind [`engine`] so it could be replaced)
//! with our policy, our own session driver (the one owner of a session:
//! lines, limits, deadlines, and every message's DATA carried byte for
//! byte), durable Maildir delivery (every copy or none) and `MailReceived`
//! events.
//!
//! # Layout
//! - [`config`]: the typed configuration.
//! - [`mailbox`]: which recipients are accepted, and the folder each maps to.
//! - [`maildir`]: writing a message into every recipient's Maildir, durably.
//! - [`messages`]: reading stored mail over HTTP (`/messages`), behind the credential.
//! - [`engine`]: samotop, with our guard, our Maildir sink and our session driver.
//! - [`per_client`]: sessions open per client address.
//! - [`error`]: the one table of SMTP replies we word ourselves.
//! - [`delivered`]: what follows a stored message (log, metrics, event).
//! - [`metrics`]: what smtp counts for `/metrics`.
//! - [`state`]: what every session can reach (policy, store, limits).
//! - [`startup`]: binding, the accept loop, shutdown.
//! - [`trace_header`]: a message's own `traceparent`, for its storing span.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod delivered;
pub mod engine;
pub mod error;
pub mod mailbox;
pub mod maildir;
pub mod messages;
pub mod metrics;
pub mod per_client;
pub mod startup;
pub mod state;
pub mod sweep;
pub mod trace_header;
