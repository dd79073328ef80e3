//! The `inlet-smtp` binary.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use inlet_common::service::run_main;
use inlet_common::shutdown;
use inlet_smtp::config::SmtpConfig;
use inlet_smtp::startup::Application;

fn main() -> ExitCode {
    run_main("inlet-smtp", |config: SmtpConfig| async move {
        Application::build(config)
            .await?
            .run_until_stopped(shutdown::signal())
            .await
    })
}
