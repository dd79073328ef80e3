//! `inlet-uploads`: uploads streamed to the shared volume.
//!
//! So far: `PUT /` (the raw body is the file) and its page at `/put`.
//! Multipart `POST /`, listings and downloads come next (issue 7).
//!
//! # Layout
//! - [`config`]: the typed configuration.
//! - [`startup`]: building and running the server.
//! - [`state`]: what every handler can reach.
//! - `routes`: the route table, pages and `PUT /`.
//! - [`store`]: safe stored names, and files that appear only when complete.
//! - [`error`]: every failure and its code.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod error;
mod routes;
pub mod startup;
pub mod state;
pub mod store;
