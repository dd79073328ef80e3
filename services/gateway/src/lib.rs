//! `inlet-gateway`: the seed's WebSocket, an echo socket, and the live event
//! feed that publishing services feed over gRPC.
//!
//! # Layout
//! - [`config`]: the typed configuration.
//! - [`startup`]: binding both listeners, running, stopping (1001 to every socket).
//! - [`state`]: what every handler can reach.
//! - `routes`: the page, `/`, `/echo`, `/events` (behind the read credential), `/session`.
//! - [`ws`]: the sockets: admission (origin, cap), the
//!   shared peer loop (limits, ping/pong, close codes), and each endpoint.
//! - [`feed`]: sequencing, history and fan-out; the JSON frames.
//! - [`ingest`]: `EventIngest.Publish` (tonic), with the publisher's trace.
//! - [`ingest_auth`]: only publishers with the publish secret get in.
//! - [`error`]: every refusal and its status.
//! - [`metrics`]: what the gateway counts for `/metrics`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod error;
pub mod feed;
pub mod ingest;
pub mod ingest_auth;
pub mod metrics;
mod routes;
pub mod startup;
pub mod state;
pub mod ws;
