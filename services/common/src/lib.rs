//! What every Inlet service shares, so no service carries its own copy.
//!
//! # Layout
//! - [`config`]: layered typed configuration (defaults → TOML file → `INLET_*` env).
//! - [`telemetry`] and `log_format`: tracing, OTLP export, log lines with trace ids.
//! - [`health`]: `/healthz` and `/readyz`.
//! - [`shutdown`]: the SIGTERM/SIGINT future.
//! - [`http`]: error-to-response mapping and HTTP server settings.
//! - [`service`]: the `main` of a service binary, with exit codes and flushing.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod health;
pub mod http;
mod log_format;
pub mod service;
pub mod shutdown;
pub mod telemetry;
