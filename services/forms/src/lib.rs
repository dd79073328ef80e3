//! `inlet-forms`: form intake over HTTP, stored durably as JSON lines.
//!
//! # Layout
//! - [`config`]: the typed configuration.
//! - [`startup`]: building and running the server.
//! - [`state`]: what every handler can reach.
//! - `routes`: the route table and handlers (pages, `POST /`, `/submissions`).
//! - [`urlencoded`], [`json_body`]: decoding request bodies (read by `inlet_http::body`).
//! - [`inflight`]: the budget of request-body bytes held at once (503 past it).
//! - [`store`]: the journal with group commit.
//! - [`error`]: every failure and its status.
//! - [`metrics`]: what forms counts for `/metrics`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod error;
pub mod inflight;
pub mod json_body;
pub mod metrics;
mod routes;
pub mod startup;
pub mod state;
pub mod store;
pub mod sweep;
pub mod urlencoded;
