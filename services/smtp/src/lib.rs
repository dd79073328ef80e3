//! `inlet-smtp`: SMTP ingest into Maildir (issue 9, in progress).
//!
//! In so far: the configuration, the recipient allow-list, durable Maildir
//! delivery (one copy per recipient, all or none), the SMTP listener
//! (samotop, kept behind [`engine`] so it could be replaced), the admin
//! listener and `MailReceived` events. Timeouts, line limits, 552 for a body
//! over the limit, and STARTTLS come next.
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
