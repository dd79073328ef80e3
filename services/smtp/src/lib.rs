//! `inlet-smtp`: SMTP ingest into Maildir (issue 9, in progress).
//!
//! What is here so far is everything that does not depend on the SMTP
//! engine: the configuration, the recipient allow-list, and durable Maildir
//! delivery (one copy per recipient, all or none). The SMTP listener itself
//! (samotop, kept behind one module so it could be replaced), the admin
//! listener, telemetry and the binary come next.
//!
//! # Layout
//! - [`config`]: the typed configuration.
//! - [`mailbox`]: which recipients are accepted, and the folder each maps to.
//! - [`maildir`]: writing a message into every recipient's Maildir, durably.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod mailbox;
pub mod maildir;
