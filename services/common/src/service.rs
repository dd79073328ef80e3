//! The life of a service process: config, telemetry, run, flush, exit code.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::config::{self, ConfigSource, Validate, EX_USAGE};
use crate::healthcheck::{self as probe, PROBE_TIMEOUT};
use crate::log_format::LogFormat;
use crate::telemetry::{self, TelemetrySettings};

/// Command-line arguments every service binary accepts.
#[derive(Debug, Parser)]
pub struct ServiceArgs {
    /// TOML config file, layered over the defaults and under `INLET_*` variables.
    #[arg(long, value_name = "FILE", env = "INLET_CONFIG")]
    pub config: Option<PathBuf>,
    /// Ask the running service's `/readyz` (at the configured address) and exit
    /// 0 when it is ready, 1 when it is not: a container HEALTHCHECK.
    #[arg(long)]
    pub healthcheck: bool,
}

/// What the shared runner needs to know about a service's config.
pub trait ServiceConfig: DeserializeOwned + Serialize + Default + Validate {
    /// `service.name` set in config, if any.
    fn service_name(&self) -> Option<&str>;
    /// Text or JSON logs.
    fn log_format(&self) -> LogFormat;
    /// The HTTP listener that serves `/readyz`, for `--healthcheck`.
    fn health_listen(&self) -> SocketAddr;
    /// The credential `--healthcheck` sends (`/readyz` on a main listener needs it).
    fn health_token(&self) -> Option<&str>;
}

/// Implements [`ServiceConfig`] for a service's config struct that has the
/// fields every service has (`service_name: Option<String>`, `log_format:
/// LogFormat`, `access: AccessSettings`); `health_listen` gives the address
/// its `/readyz` is on.
///
/// ```text
/// inlet_common::impl_service_config!(FormsConfig, health_listen: |c| c.admin_listen.unwrap_or(c.listen));
/// ```
#[macro_export]
macro_rules! impl_service_config {
    ($config:ty, health_listen: $listen:expr) => {
        impl $crate::service::ServiceConfig for $config {
            fn service_name(&self) -> Option<&str> {
                self.service_name.as_deref()
            }

            fn log_format(&self) -> $crate::log_format::LogFormat {
                self.log_format
            }

            fn health_listen(&self) -> std::net::SocketAddr {
                let listen: fn(&Self) -> std::net::SocketAddr = $listen;
                listen(self)
            }

            fn health_token(&self) -> Option<&str> {
                self.access.admin_token.as_ref().map(|token| token.expose())
            }
        }
    };
}

/// Runs a service binary: parses args, loads config (exit 64 when invalid),
/// starts telemetry, runs `serve` on a tokio runtime and flushes traces on the
/// way out, whether `serve` succeeds, fails or panics.
///
/// With `--healthcheck` it serves nothing: it probes the running service's
/// `/readyz` and exits 0 (ready) or 1 (not ready, or no usable config).
pub fn run_main<C, F, Fut, E>(default_name: &str, serve: F) -> ExitCode
where
    C: ServiceConfig,
    F: FnOnce(C) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let args = ServiceArgs::parse();
    let source = ConfigSource::from_process(args.config);
    let config: C = match config::load(&source) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("{default_name}: {err}");
            // Docker reads any code but 0 and 1 as "reserved": a health probe says 1.
            return ExitCode::from(if args.healthcheck { 1 } else { EX_USAGE });
        }
    };
    if args.healthcheck {
        return healthcheck(default_name, config.health_listen(), config.health_token());
    }
    let settings = TelemetrySettings::resolve(
        default_name,
        config.service_name(),
        config.log_format(),
        &source.env,
    );
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("{default_name}: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    // The guard is declared after the runtime, so it is dropped (and flushes)
    // first, while the runtime still drives the exporter.
    let guard = match runtime.block_on(async { telemetry::init(&settings) }) {
        Ok(guard) => guard,
        Err(err) => {
            eprintln!("{default_name}: {err}");
            return ExitCode::from(EX_USAGE);
        }
    };
    let outcome = runtime.block_on(serve(config));
    if let Err(err) = &outcome {
        // Through tracing, so JSON logs stay JSON, and before the flush.
        tracing::error!(error = %err, "{default_name} stopped with an error");
    }
    guard.shutdown();
    if outcome.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `--healthcheck`: probes `/readyz` at `listen` (sending `token`); one line
/// on stdout (ready) or stderr (why not), for `docker inspect` to show; exit 0 or 1.
pub fn healthcheck(name: &str, listen: SocketAddr, token: Option<&str>) -> ExitCode {
    match probe::probe(listen, token, PROBE_TIMEOUT) {
        Ok(()) => {
            println!("{name}: ready");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("{name}: not ready: {err}");
            ExitCode::FAILURE
        }
    }
}
