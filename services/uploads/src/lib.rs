//! `inlet-uploads`: uploads streamed to the shared volume.
//!
//! Multipart `POST /` and raw `PUT /`, each with its page; `GET /files` lists
//! what is stored and `GET /files/{name}` downloads it.
//!
//! # Layout
//! - [`config`]: the typed configuration.
//! - [`startup`]: building and running the server.
//! - [`state`]: what every handler can reach.
//! - `routes`: the route table, pages, uploads, listing and downloads.
//! - `multipart`: reading a multipart body under every limit.
//! - [`receive`]: one file's way in, hashed, sealed, then named.
//! - [`store`]: safe stored names, metadata, files that appear only when
//!   complete, and listing.
//! - [`metrics`]: what uploads counts.
//! - [`error`]: every failure and its code.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod error;
pub mod metrics;
pub mod multipart;
pub mod receive;
mod routes;
pub mod startup;
pub mod state;
pub mod store;
pub mod sweep;
