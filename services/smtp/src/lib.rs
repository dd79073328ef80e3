//! `inlet-smtp`: SMTP ingest into allow-listed Maildirs: samotop (kept
//! behind [`engine`] so it could be replaced) with our policy, a wire under
//! it for what samotop lacks (the seed's loose commands, limits, timeouts,
//! exact refusal codes, STARTTLS below the line handling), durable Maildir
//! delivery (every copy or none) and `MailReceived` events.
//!
//! # Layout
//! - [`config`]: the typed configuration.
//! - [`mailbox`]: which recipients are accepted, and the folder each maps to.
//! - [`maildir`]: writing a message into every recipient's Maildir, durably.
//! - [`engine`]: samotop, with our guard and our Maildir sink.
//! - [`delivered`]: what follows a stored message (log, metrics, event).
//! - [`startup`]: binding, the accept loop, shutdown.
//! - [`trace_header`]: a message's own `traceparent`, for its storing span.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod delivered;
pub mod engine;
pub mod mailbox;
pub mod maildir;
pub mod startup;
pub mod trace_header;
