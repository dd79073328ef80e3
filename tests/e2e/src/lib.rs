//! End-to-end testing of the compose stack (`docker-compose.yml`), and the
//! Jaeger stand-in it runs against on machines where no Jaeger image can be had.
//!
//! # Layout
//! - [`jaeger_api`]: the JSON of Jaeger's query API, written by the stand-in and
//!   read by the tests (which read a real Jaeger the same way).
//! - [`standin`]: OTLP in, Jaeger's query API out.
//! - `src/bin/jaeger-standin.rs`: the stand-in as a program, for its image.
//! - `tests/`: the stand-in checked on its own, and the stack test that
//!   `tests/e2e/run.sh` runs once the stack is up.
#![forbid(unsafe_code)]

pub mod jaeger_api;
pub mod standin;
