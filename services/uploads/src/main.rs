//! The `inlet-uploads` binary.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use inlet_common::service::run_main;
use inlet_common::shutdown;
use inlet_uploads::config::UploadsConfig;
use inlet_uploads::startup::Application;

fn main() -> ExitCode {
    run_main("inlet-uploads", |config: UploadsConfig| async move {
        Application::build(config)
            .await?
            .run_until_stopped(shutdown::signal())
            .await
    })
}
