//! The `inlet-gateway` binary.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use inlet_common::service::run_main;
use inlet_common::shutdown;
use inlet_gateway::config::GatewayConfig;
use inlet_gateway::startup::Application;

/// mimalloc: measured against the system allocator with
/// tests/bench/compare-builds.sh: fewer CPU microseconds per request (see
/// docs/configuration.md, "Allocator").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    run_main("inlet-gateway", |config: GatewayConfig| async move {
        Application::build(config)
            .await?
            .run_until_stopped(shutdown::signal())
            .await
    })
}
