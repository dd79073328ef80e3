//! What every Inlet service shares, so no service carries its own copy.
//!
//! # Layout
//! - [`config`]: layered typed configuration (defaults → TOML file → `INLET_*` env).
//! - [`telemetry`] and `log_format`: tracing, OTLP export, log lines with trace ids.
//! - [`health`]: `/healthz` and `/readyz`.
//! - [`healthcheck`]: `--healthcheck`, the binary probing its own `/readyz` for a container.
//! - [`shutdown`]: the SIGTERM/SIGINT future.
//! - [`http`]: error-to-response mapping and HTTP server settings.
//! - [`service`]: the `main` of a service binary, with exit codes and flushing.
//! - [`report`]: an error with its chain of causes, as text.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod health;
pub mod healthcheck;
pub mod http;
mod log_format;
pub mod report;
pub mod service;
pub mod shutdown;
pub mod telemetry;
