//! `inlet`: the command-line client for Inlet's protocols (and any server
//! speaking them): HTTP posts and gets, uploads, WebSocket, SMTP and the
//! gateway's live event feed. See `inlet --help` and docs/cli.md.
#![forbid(unsafe_code)]

mod args;
mod context;
mod error;
mod events;
mod http;
mod interrupt;
mod mail;
mod outcome;
mod style;
mod tls;
mod trace;
mod ws;

use std::process::ExitCode;

use clap::Parser;
use tracing::Instrument;

use args::{Cli, Command};
use context::Context;
use error::CliError;
use outcome::Outcome;
use style::{red, Stream};
use trace::ClientTrace;

fn main() -> ExitCode {
    let cli = Cli::parse();
    inlet_common::crypto::install_provider();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => return report(&CliError::Io(err)),
    };
    let result = runtime.block_on(run(cli));
    // The line editor's thread may still be blocked on the terminal: do not wait for it.
    runtime.shutdown_background();
    match result {
        Ok(outcome) => outcome.exit_code(),
        Err(err) => report(&err),
    }
}

async fn run(cli: Cli) -> Result<Outcome, CliError> {
    let (name, target) = cli.command.name_and_target();
    let trace = if cli.common.trace {
        ClientTrace::start(name, &target)?
    } else {
        ClientTrace::off()
    };
    let ctx = Context {
        timeout: cli.common.timeout(),
        tls: tls::client_config(cli.common.cacert.as_deref())?,
        cacert: cli.common.cacert.clone(),
        trace,
    };
    let span = ctx.trace.span().clone();
    let result = async {
        match cli.command {
            Command::Post(args) => http::post::run(args, &ctx).await,
            Command::Get(args) => http::get::run(args, &ctx).await,
            Command::Delete(args) => http::delete::run(args, &ctx).await,
            Command::Upload(args) => http::upload::upload(args, &ctx).await,
            Command::Put(args) => http::upload::put(args, &ctx).await,
            Command::Ws(args) => ws::run(args, &ctx).await,
            Command::Mail(args) => mail::run(args, &ctx).await,
            Command::Events(args) => events::run(args, &ctx).await,
        }
    }
    .instrument(span)
    .await;
    if result.is_err() {
        ctx.trace.record_error();
    }
    ctx.trace.finish().await;
    result
}

/// Prints an error as one line (never a backtrace) and gives its exit status.
/// Output closed by its reader (`inlet get … | head`) is no error: the
/// reader has what it wanted.
fn report(err: &CliError) -> ExitCode {
    if let CliError::Io(io) = err {
        if io.kind() == std::io::ErrorKind::BrokenPipe {
            return ExitCode::SUCCESS;
        }
    }
    if !matches!(err, CliError::Reported) {
        eprintln!("{}", red(Stream::Stderr, &format!("inlet: {err}")));
    }
    err.exit_code()
}

impl Command {
    /// The command's name and what it talks to, for the client span.
    fn name_and_target(&self) -> (&'static str, String) {
        match self {
            Command::Post(a) => ("post", a.url.clone()),
            Command::Get(a) => ("get", a.url.clone()),
            Command::Delete(a) => ("delete", a.url.clone()),
            Command::Upload(a) => ("upload", a.url.clone()),
            Command::Put(a) => ("put", a.url.clone()),
            Command::Ws(a) => ("ws", a.url.clone()),
            Command::Mail(a) => ("mail", format!("smtp://{}", a.server)),
            Command::Events(a) => ("events", a.url.clone()),
        }
    }
}
