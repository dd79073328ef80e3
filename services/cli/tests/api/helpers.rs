//! Running `inlet` and the services it talks to.

use std::path::{Path, PathBuf};

use inlet_testkit::cli;
pub use inlet_testkit::cli::{Follower, Run};
use inlet_testkit::process::{sibling_binary, ServiceProcess};

/// The binary under test.
pub const INLET: &str = env!("CARGO_BIN_EXE_inlet");

/// Runs `inlet args…` with `stdin` to its end, bounded in time.
pub async fn inlet(args: &[&str], stdin: &[u8]) -> Run {
    inlet_with_env(args, stdin, &[]).await
}

/// Like [`inlet`], with extra environment.
pub async fn inlet_with_env(args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Run {
    cli::run(Path::new(INLET), args, stdin, env).await
}

/// `inlet args…` as a command to set up by hand.
pub fn command(args: &[&str]) -> tokio::process::Command {
    cli::command(Path::new(INLET), args, &[])
}

/// `inlet args…` left running, its output read line by line.
pub fn follow(args: &[&str]) -> Follower {
    Follower::start(Path::new(INLET), args, &[])
}

/// The port a JSON log line with `message` names.
pub async fn port_logged(process: &ServiceProcess, message: &str) -> u16 {
    let line = process
        .wait_for_log(|v| v["message"] == message)
        .await
        .unwrap_or_else(|| panic!("no {message:?} log line"));
    line["fields"]["port"].as_u64().unwrap() as u16
}

/// A started gateway and its gRPC ingest port.
pub struct Gateway {
    pub process: ServiceProcess,
    pub grpc_port: u16,
}

impl Gateway {
    /// Starts the gateway on `http` and `grpc` (`127.0.0.1:0` for any free port).
    pub async fn start_on(http: &str, grpc: &str) -> Self {
        let bin = sibling_binary("inlet-gateway");
        let process = ServiceProcess::start(
            bin.to_str().unwrap(),
            &[("INLET_LISTEN", http), ("INLET_GRPC_LISTEN", grpc)],
        )
        .await;
        let grpc_port = port_logged(&process, "event ingest (gRPC) listening").await;
        Self { process, grpc_port }
    }

    /// Starts the gateway on free ports.
    pub async fn start() -> Self {
        Self::start_on("127.0.0.1:0", "127.0.0.1:0").await
    }

    /// `ws://…/path`.
    pub fn ws(&self, path: &str) -> String {
        format!("ws://127.0.0.1:{}{path}", self.process.port)
    }

    /// What forms, uploads and smtp publish to.
    pub fn ingest_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.grpc_port)
    }
}

/// Starts `inlet-<name>` on a free port storing under `data`, publishing to
/// `gateway` when given, with `extra` environment.
pub async fn service(
    name: &str,
    data: &Path,
    gateway: Option<&Gateway>,
    extra: &[(&str, &str)],
) -> ServiceProcess {
    let bin = sibling_binary(&format!("inlet-{name}"));
    let data_dir = data.display().to_string();
    let ingest = gateway.map(Gateway::ingest_url);
    let mut env = vec![("INLET_DATA_DIR", data_dir.as_str())];
    if name == "smtp" {
        env.push(("INLET_SMTP_LISTEN", "127.0.0.1:0"));
        env.push(("INLET_ADMIN_LISTEN", "127.0.0.1:0"));
    } else {
        env.push(("INLET_LISTEN", "127.0.0.1:0"));
    }
    if let Some(url) = &ingest {
        env.push(("INLET_GATEWAY_URL", url));
    }
    env.extend_from_slice(extra);
    ServiceProcess::start(bin.to_str().unwrap(), &env).await
}

/// A started SMTP service and its SMTP port.
pub async fn smtp(data: &Path) -> (ServiceProcess, u16) {
    let process = service("smtp", data, None, &[]).await;
    let port = port_logged(&process, "inlet-smtp SMTP listening").await;
    (process, port)
}

/// Every message stored in the Maildir folders under `data`, as text.
pub fn stored_mail(data: &Path) -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    let Ok(users) = std::fs::read_dir(data.join("mail")) else {
        return found;
    };
    for user in users.flatten() {
        for entry in std::fs::read_dir(user.path().join("new"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            found.push((entry.path(), text));
        }
    }
    found.sort();
    found
}

/// The `http://127.0.0.1:<port>/` of a service process.
pub fn url(process: &ServiceProcess, path: &str) -> String {
    format!("http://127.0.0.1:{}{path}", process.port)
}

/// A loopback port nothing listens on (bound, read, and let go).
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}
