//! `inlet-proto`: the event feed's types and the `EventIngest` gRPC service,
//! generated from `proto/inlet/events/v1/events.proto` by tonic-prost-build.
//!
//! The generated code is committed (`src/generated/`), so building Inlet
//! needs no `protoc` and no code generator: the images and every service
//! build from plain Rust. The test `generated_code_matches_the_proto`
//! regenerates it with protox (a protobuf compiler written in Rust) and fails
//! on any drift; `INLET_PROTO_BLESS=1 cargo test -p inlet-proto` rewrites it
//! after a change to the `.proto`.
//!
//! [`kinds`] is the one table of event kinds and topics, shared by the
//! gateway and the CLI.
#![forbid(unsafe_code)]

pub mod kinds;

/// `inlet.events.v1`: the event feed.
pub mod events {
    /// Version 1 of the feed.
    #[allow(missing_docs, clippy::all, clippy::pedantic)]
    pub mod v1 {
        include!("generated/inlet.events.v1.rs");
    }
}
