//! `inlet-uploads`: multipart and PUT uploads streamed to the shared volume.
//!
//! This is its first slice: how a file is named and written. The service
//! itself (routes, pages, limits) is built on it next.
//!
//! # Layout
//! - [`store`]: safe stored names, and files that appear only when complete.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod store;
