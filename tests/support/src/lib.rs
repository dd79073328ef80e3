//! Helpers shared by Inlet's integration tests. Nothing here mocks our own code:
//! these are stand-ins for things that cannot run on a test machine (a trace
//! collector) and drivers for real ones (a browser, a service binary).
//!
//! # Layout
//! - [`ingest`]: a gateway event-ingest stand-in (a real gRPC `EventIngest` server).
//! - [`otlp`]: an OTLP trace receiver speaking the real wire protocol (gRPC and HTTP/protobuf).
//! - [`browser`]: headless Chromium through chromedriver, via WebDriver.
//! - [`cli`]: the `inlet` command-line client, run to its end or left running.
//! - [`process`]: a service binary as a child process, with a readiness wait.
//! - [`raw`]: raw TCP requests, trickled bytes, waiting for a port to close.
//! - [`http`]: an HTTP client bounded in time.
//! - [`log`]: `TEST_LOG` switches on logs in in-process tests.
//! - [`server`]: a service running in the test's process, stopped on demand.
//! - [`smtp`]: a raw SMTP dialogue with bounded waits.
//! - [`ws`]: a real WebSocket client with bounded waits.
#![forbid(unsafe_code)]

pub mod access;
pub mod browser;
pub mod cli;
pub mod files;
pub mod http;
pub mod ingest;
pub mod log;
pub mod nats;
pub mod otlp;
pub mod paging;
pub mod postgres;
pub mod process;
pub mod raw;
pub mod s3;
pub mod server;
pub mod smtp;
pub mod ws;

use std::time::Duration;

/// Upper bound for any single wait in a test; past it the test fails instead of hanging.
pub const WAIT: Duration = Duration::from_secs(20);
