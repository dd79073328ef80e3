//! The `inlet-forms` binary.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use inlet_common::service::run_main;
use inlet_common::shutdown;
use inlet_forms::config::FormsConfig;
use inlet_forms::startup::Application;

fn main() -> ExitCode {
    run_main("inlet-forms", |config: FormsConfig| async move {
        Application::build(config)?
            .run_until_stopped(shutdown::signal())
            .await
    })
}
