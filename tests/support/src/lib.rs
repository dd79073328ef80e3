//! Helpers shared by Inlet's integration tests. Nothing here mocks our own code:
//! these are stand-ins for things that cannot run on a test machine (a trace
//! collector) and drivers for real ones (a browser, a service binary).
//!
//! # Layout
//! - [`otlp`]: an OTLP trace receiver speaking the real wire protocol (gRPC and HTTP/protobuf).
//! - [`browser`]: headless Chromium through chromedriver, via WebDriver.
//! - [`process`]: a service binary as a child process, with a readiness wait.
#![forbid(unsafe_code)]

pub mod browser;
pub mod otlp;
pub mod process;

use std::time::Duration;

/// Upper bound for any single wait in a test; past it the test fails instead of hanging.
pub const WAIT: Duration = Duration::from_secs(20);
