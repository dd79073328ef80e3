//! `inlet-inbox`: every arrival (submissions, files, mail) on one live,
//! searchable page, each linked to the trace that stored it.
//!
//! The inbox owns no original data: it lists the services' read APIs,
//! follows the gateway's event feed, and keeps a search index of its own
//! that it can always rebuild from them.
//!
//! # Layout
//! - [`config`]: the typed configuration.
//! - [`startup`]: building and running the service.
//! - [`state`]: what every handler can reach.
//! - [`index`]: the search index (SQLite FTS5) and the query language.
//! - [`sources`]: the services' APIs and the event feed, kept in the index.
//! - `routes`: pages, the live stream, sign-in, deletion.
//! - `views`: the HTML of each page.
//! - [`error`]: every failure and its answer.
//! - [`metrics`]: what the inbox counts for `/metrics`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod error;
pub mod index;
pub mod metrics;
mod routes;
pub mod sources;
pub mod startup;
pub mod state;
mod views;
