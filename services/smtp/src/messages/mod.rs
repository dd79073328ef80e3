//! Reading stored mail over HTTP: `GET /messages`, `/messages/{id}`,
//! `/messages/{id}/raw` and `/messages/{id}/attachments/{n}`, behind the
//! read credential, and `DELETE /messages/{id}` behind the delete scope, on smtp's own HTTP listener (`INLET_LISTEN`), not the
//! admin one, which stays on the compose network.
//!
//! A message's id is derived from its mailbox and its Maildir unique name
//! (the file name without its `:2,` flags): stable across restarts and a
//! client's moving it from `new/` to `cur/`, and never a path. Requests
//! name messages only by id; a file is found by listing the configured
//! mailboxes, so nothing a client sends is ever joined to a path.
//!
//! # Layout
//! - [`stored`]: the messages on disk, their ids, order and cursor.
//! - [`parsed`]: what `mail-parser` reads from one (summary, detail, attachments).
//! - [`routes`]: the endpoints.
//! - [`error`]: their failures as answers.

pub mod error;
pub mod parsed;
pub mod routes;
pub mod stored;

pub use stored::{MailFolder, MailRetention};
