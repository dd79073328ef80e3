//! `inlet-bench`: load for Inlet's services and their peers, one
//! subcommand per protocol, one JSON line per run on stdout.
//!
//! ```text
//! inlet-bench uploads http://127.0.0.1:8081/ --mode multipart --file-bytes 65536 --files 1000 --connections 8
//! inlet-bench ws ws://127.0.0.1:8082/ --mode hello --connections 100
//! inlet-bench smtp 127.0.0.1:2525 --sessions 8 --messages 200 --message-bytes 4096
//! inlet-bench ws ws://127.0.0.1:8082/events --mode fanout --connections 1000 --publish-url http://127.0.0.1:50051
//! inlet-bench inbox-fill --forms http://127.0.0.1:8080 --uploads http://127.0.0.1:8081 --smtp 127.0.0.1:2525 --items 100000
//! inlet-bench inbox-search http://127.0.0.1:8084 --query 'kind:mail from:alice after:7d' --requests 300
//! inlet-bench inbox-live http://127.0.0.1:8084 --forms … --uploads … --smtp … --rate 1000 --seconds 10
//! inlet-bench ceiling --dir /data/ceiling --threads 8 --file-bytes 50000 --files 4000
//! inlet-bench soak --forms http://127.0.0.1:8080 --uploads http://127.0.0.1:8081 --gateway ws://127.0.0.1:8082 \
//!     --smtp 127.0.0.1:2525 --data-dir DATA --pid forms=PID … --minutes 30   (tests/soak/run.sh)
//! ```
#![forbid(unsafe_code)]

mod ceiling;
mod credentials;
#[cfg(feature = "engines")]
mod engines;
mod feed;
mod inbox;
mod report;
mod rss;
mod smtp;
mod soak;
mod uploads;
mod ws;

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
    /// WebSocket: round trips (Hello, echo) or event fan-out.
    Ws(ws::Args),
    /// SMTP: sessions of messages, RSET before each.
    Smtp(smtp::Args),
    /// The event feed end to end: form posts to frames on many subscribers.
    Feed(feed::Args),
    /// Soak: a steady mixed load on every service, sampling their resources.
    Soak(soak::Args),
    /// This machine's ceiling for storing small files durably (no server).
    Ceiling(ceiling::Args),
    /// The inbox: store a mix of items through forms, uploads and smtp.
    InboxFill(inbox::FillArgs),
    /// The inbox: latency of one search (or the list's first page).
    InboxSearch(inbox::SearchArgs),
    /// The inbox: time from an arrival's 200/250 to its row on an open page.
    InboxLive(inbox::LiveArgs),
    /// The inbox's index on SQLite FTS5 against tantivy (feature `engines`).
    #[cfg(feature = "engines")]
    IndexEngines(engines::Args),
}

#[tokio::main]
async fn main() -> ExitCode {
    // Every HTTP client here uses rustls with ring (an error only means one
    // is installed already).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    let outcome = match cli.command {
        // Its samples and verdict are printed as they come.
        Command::Soak(args) => {
            return match soak::run(args).await {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => ExitCode::FAILURE,
                Err(err) => {
                    eprintln!("inlet-bench: {err}");
                    ExitCode::FAILURE
                }
            };
        }
        Command::Ceiling(args) => ceiling::run(args)
            .map(|r| serde_json::to_value(r).expect("a report serialises"))
            .map_err(|e| e.to_string()),
        Command::Uploads(args) => uploads::run(args)
            .await
            .map(|r| serde_json::to_value(r).expect("a report serialises"))
            .map_err(|e| e.to_string()),
        Command::Smtp(args) => smtp::run(args)
            .await
            .map(|r| serde_json::to_value(r).expect("a report serialises")),
        #[cfg(feature = "engines")]
        Command::IndexEngines(args) => {
            return match engines::run(args).await {
                Ok(reports) => {
                    for report in reports {
                        println!(
                            "{}",
                            serde_json::to_string(&report).expect("a report serialises")
                        );
                    }
                    ExitCode::SUCCESS
                }
                Err(err) => {
                    eprintln!("inlet-bench: {err}");
                    ExitCode::FAILURE
                }
            };
        }
        Command::InboxFill(args) => inbox::fill(args)
            .await
            .map(|r| serde_json::to_value(r).expect("a report serialises")),
        Command::InboxSearch(args) => inbox::search(args)
            .await
            .map(|r| serde_json::to_value(r).expect("a report serialises")),
        Command::InboxLive(args) => inbox::live(args)
            .await
            .map(|r| serde_json::to_value(r).expect("a report serialises")),
        Command::Feed(args) => feed::run(args)
            .await
            .map(|r| serde_json::to_value(r).expect("a report serialises"))
            .map_err(|e| e.to_string()),
        Command::Ws(args) => ws::run(args)
            .await
            .map(|r| serde_json::to_value(r).expect("a report serialises"))
            .map_err(|e| e.to_string()),
    };
    match outcome {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("inlet-bench: {err}");
            ExitCode::FAILURE
        }
    }
}
