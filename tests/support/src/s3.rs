//! A real S3 server for the tests of the uploads S3 store: moto's
//! (`pip install 'moto[server]'`), in memory, on a port the system picks,
//! run by `s3_server.py` so that its writes are atomic, as S3's are.
//! It speaks the S3 REST protocol, conditional writes (`If-None-Match: *`
//! on PutObject and CompleteMultipartUpload) and ListMultipartUploads
//! included; keys are accepted but not checked.

use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::WAIT;

/// The access key the tests use (moto accepts any).
pub const ACCESS_KEY_ID: &str = "inlet-test";
/// The secret the tests use.
pub const SECRET_ACCESS_KEY: &str = "inlet-test-secret";

/// A running `moto_server`.
pub struct S3Server {
    child: Option<Child>,
    port: u16,
}

impl S3Server {
    /// Starts a server on a free port and waits until it serves.
    pub async fn start() -> Self {
        let mut server = Self {
            child: None,
            port: 0,
        };
        server.port = server.spawn(0).await;
        server
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The uploads service's settings for `bucket` on this server (made
    /// at start).
    pub fn uploads_env(&self, bucket: &str) -> Vec<(String, String)> {
        [
            ("INLET_STORE__BACKEND", "s3".to_owned()),
            ("INLET_STORE__S3__ENDPOINT", self.endpoint()),
            ("INLET_STORE__S3__BUCKET", bucket.to_owned()),
            ("INLET_STORE__S3__CREATE_BUCKET", "true".to_owned()),
            ("INLET_STORE__S3__ACCESS_KEY_ID", ACCESS_KEY_ID.to_owned()),
            (
                "INLET_STORE__S3__SECRET_ACCESS_KEY",
                SECRET_ACCESS_KEY.to_owned(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// Stops it (SIGKILL) and waits for it to exit; what it held is gone.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// Starts an empty server again on the same port.
    pub async fn start_again(&mut self) {
        self.kill().await;
        self.spawn(self.port).await;
    }

    async fn spawn(&mut self, port: u16) -> u16 {
        let launcher = concat!(env!("CARGO_MANIFEST_DIR"), "/s3_server.py");
        let mut child = Command::new("python3")
            .args([launcher, "127.0.0.1", &port.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start python3 {launcher}: {e}"));
        let stdout = BufReader::new(child.stdout.take().expect("piped")).lines();
        let mut lines = BufReader::new(child.stderr.take().expect("piped")).lines();
        // Keep reading, or the server blocks on a full pipe.
        tokio::spawn(drain(stdout));
        let seen = tokio::time::timeout(WAIT, async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(address) = line.split("Running on http://").nth(1) {
                    return address
                        .rsplit(':')
                        .next()
                        .and_then(|p| p.trim().parse().ok());
                }
            }
            None
        })
        .await;
        let port = seen
            .ok()
            .flatten()
            .expect("moto_server reports the address it serves on");
        tokio::spawn(drain(lines));
        self.child = Some(child);
        port
    }
}

async fn drain<R: tokio::io::AsyncBufRead + Unpin>(mut lines: tokio::io::Lines<R>) {
    while let Ok(Some(_)) = lines.next_line().await {}
}
