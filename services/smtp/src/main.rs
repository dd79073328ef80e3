//! The `inlet-smtp` binary.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use inlet_common::service::run_main;
use inlet_common::shutdown;
use inlet_smtp::config::SmtpConfig;
use inlet_smtp::startup::Application;

/// mimalloc: measured against the system allocator with
/// tests/bench/compare-builds.sh: fewer CPU microseconds per request (see
/// docs/configuration.md, "Allocator").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    run_main("inlet-smtp", |config: SmtpConfig| async move {
        Application::build(config)
            .await?
            .run_until_stopped(shutdown::signal())
            .await
    })
}
