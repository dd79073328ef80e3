//! A real `nats-server` (Debian's, 2.9) with JetStream on file storage,
//! on a free port, for the tests of the NATS feed. It can be stopped and
//! started again on the same port and store, as an operator would.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::WAIT;

/// A running `nats-server -js`.
pub struct NatsServer {
    child: Option<Child>,
    port: u16,
    store: PathBuf,
}

impl NatsServer {
    /// Starts a server on a port the system picks, storing in `store`.
    pub async fn start(store: &Path) -> Self {
        let mut server = Self {
            child: None,
            port: 0,
            store: store.to_owned(),
        };
        server.port = server.spawn(None).await;
        server
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Its client port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops it (SIGKILL: no goodbye to clients) and waits for it to exit.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// Starts it again on the same port and store.
    pub async fn start_again(&mut self) {
        self.kill().await;
        self.spawn(Some(self.port)).await;
    }

    /// Starts the server and waits for "Server is ready"; gives its port.
    async fn spawn(&mut self, port: Option<u16>) -> u16 {
        let port_arg = port.map_or("-1".to_owned(), |p| p.to_string());
        let mut child = Command::new(binary())
            .args(["-js", "-a", "127.0.0.1", "-p", &port_arg, "-sd"])
            .arg(&self.store)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start nats-server (apt-get install nats-server): {e}")
            });
        let mut lines = BufReader::new(child.stderr.take().expect("piped")).lines();
        let mut seen = None;
        let ready = tokio::time::timeout(WAIT, async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(address) = line.split("client connections on ").nth(1) {
                    seen = address
                        .rsplit(':')
                        .next()
                        .and_then(|p| p.trim().parse().ok());
                }
                if line.contains("Server is ready") {
                    return seen;
                }
            }
            None
        })
        .await;
        let port = ready
            .ok()
            .flatten()
            .expect("nats-server reports its port and readiness");
        // Keep reading, or the server blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        self.child = Some(child);
        port
    }
}

/// `nats-server` on the PATH, or where Debian puts it.
fn binary() -> PathBuf {
    crate::process::find_program(
        "nats-server",
        &[PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")],
    )
}
