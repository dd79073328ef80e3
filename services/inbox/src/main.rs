//! The `inlet-inbox` binary.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use inlet_common::service::run_main;
use inlet_common::shutdown;
use inlet_inbox::config::InboxConfig;
use inlet_inbox::startup::Application;

fn main() -> ExitCode {
    run_main("inlet-inbox", |config: InboxConfig| async move {
        Application::build(config)
            .await?
            .run_until_stopped(shutdown::signal())
            .await
    })
}
