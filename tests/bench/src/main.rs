//! `inlet-bench`: load for Inlet's services and their peers, one
//! subcommand per protocol, one JSON line per run on stdout.
//!
//! ```text
//! inlet-bench uploads http://127.0.0.1:8081/ --mode multipart --file-bytes 65536 --files 1000 --connections 8
//! ```
#![forbid(unsafe_code)]

mod report;
mod rss;
mod uploads;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Uploads: multipart POSTs or raw PUTs of generated files.
    Uploads(uploads::Args),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Uploads(args) => uploads::run(args).await,
    };
    match outcome {
        Ok(report) => {
            println!(
                "{}",
                serde_json::to_string(&report).expect("a report serialises")
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("inlet-bench: {err}");
            ExitCode::FAILURE
        }
    }
}
