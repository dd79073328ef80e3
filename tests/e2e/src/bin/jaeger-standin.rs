//! `jaeger-standin`: OTLP in on 4317 (gRPC) and 4318 (HTTP), Jaeger's query API
//! out on 16686, for the end-to-end test on machines with no Jaeger image.
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Parser;
use inlet_common::service::healthcheck;
use inlet_e2e::standin::{Addresses, Standin};

/// A Jaeger stand-in for tests: receives OTLP, answers Jaeger's query API.
#[derive(Debug, Parser)]
struct Args {
    /// OTLP over gRPC.
    #[arg(long, default_value = "0.0.0.0:4317")]
    otlp_grpc: SocketAddr,
    /// OTLP over HTTP/protobuf (`POST /v1/traces`).
    #[arg(long, default_value = "0.0.0.0:4318")]
    otlp_http: SocketAddr,
    /// Jaeger's query API (`/api/services`, `/api/traces`) and `/readyz`.
    #[arg(long, default_value = "0.0.0.0:16686")]
    query: SocketAddr,
    /// Ask a running stand-in's `/readyz` and exit 0 (ready) or 1.
    #[arg(long)]
    healthcheck: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.healthcheck {
        return healthcheck("jaeger-standin", args.query, None);
    }
    match serve(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("jaeger-standin: {err}");
            ExitCode::FAILURE
        }
    }
}

#[actix_web::main]
async fn serve(args: Args) -> std::io::Result<()> {
    let standin = Standin::start(Addresses {
        otlp_grpc: args.otlp_grpc,
        otlp_http: args.otlp_http,
        query: args.query,
    })
    .await?;
    eprintln!(
        "jaeger-standin: OTLP on {} (gRPC) and {} (HTTP), query API on {}",
        standin.receiver().grpc_endpoint(),
        standin.receiver().http_endpoint(),
        standin.query_url()
    );
    standin.run().await
}
