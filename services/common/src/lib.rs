//! What every Inlet service shares, so no service carries its own copy. It has
//! no actix in it: the actix-web parts live in `inlet-http`, so a service that
//! is not an actix server (smtp) does not pull actix in.
//!
//! # Layout
//! - [`access`]: the set's credentials, their scopes, the failure throttle, the publish secret.
//! - [`code`]: the one table of error codes (name and HTTP status).
//! - [`connections`]: cap, stop token and drain for servers that are not actix.
//! - [`config`]: layered typed configuration (defaults → TOML file → `INLET_*` env).
//! - [`telemetry`]: tracing and OTLP export; [`log_format`]: text or JSON log lines with trace ids.
//! - [`metrics`]: the service's one metrics registry (Prometheus text).
//! - [`grpc_trace`]: W3C trace context in gRPC metadata, injected and extracted.
//! - [`publish`]: arrivals published to the event feed (the gateway or NATS), never blocking the caller.
//! - [`jetstream`]: the feed on NATS JetStream, as publishers and the gateway share it.
//! - [`readiness`]: the checks `/readyz` reports.
//! - [`healthcheck`]: `--healthcheck`, the binary probing its own `/readyz` for a container.
//! - [`shutdown`]: the SIGTERM/SIGINT future.
//! - [`service`]: the `main` of a service binary, with exit codes and flushing.
//! - [`record`]: the id (UUIDv7) and time (RFC 3339, UTC) everything stored carries.
//! - [`report`]: an error with its chain of causes, as text.
//! - [`crypto`]: the process's TLS crypto provider (ring), installed once.
//! - [`trace_id`]: the trace id every stored item and its event carry.
//! - [`event_size`]: an event cut to fit `publish.max_event_bytes`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod access;
pub mod code;
pub mod config;
pub mod connections;
pub mod crypto;
pub mod disk_space;
pub mod event_size;
pub mod grpc_trace;
pub mod healthcheck;
pub mod jetstream;
pub mod log_format;
pub mod machine;
pub mod metrics;
pub mod publish;
pub mod reachability;
pub mod readiness;
pub mod record;
pub mod report;
pub mod retention;
pub mod service;
pub mod shutdown;
pub mod telemetry;
pub mod trace_id;
