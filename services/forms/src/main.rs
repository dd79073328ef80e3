//! The `inlet-forms` binary.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use inlet_common::service::run_main;
use inlet_common::shutdown;
use inlet_forms::config::FormsConfig;
use inlet_forms::startup::Application;

/// mimalloc: the POST path allocates a little per request, and glibc's
/// malloc and free were about a tenth of its profile.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    run_main("inlet-forms", |config: FormsConfig| async move {
        Application::build(config)
            .await?
            .run_until_stopped(shutdown::signal())
            .await
    })
}
