//! A service binary run as a child process, the way an operator runs it.

use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::Notify;

use crate::WAIT;

/// A running service binary with its stderr captured line by line.
pub struct ServiceProcess {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    new_line: Arc<Notify>,
    /// The HTTP port it announced in its "listening" log line.
    pub port: u16,
}

impl ServiceProcess {
    /// Starts `bin` with only `env` (plus JSON logs) and waits for its
    /// "listening" log line, which names the bound port.
    pub async fn start(bin: &str, env: &[(&str, &str)]) -> Self {
        let mut child = command(bin, env)
            .env("INLET_LOG_FORMAT", "json")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
        let lines = Arc::new(Mutex::new(Vec::new()));
        let new_line = Arc::new(Notify::new());
        let stderr = child.stderr.take().expect("stderr is piped");
        let (reader_lines, reader_notify) = (Arc::clone(&lines), Arc::clone(&new_line));
        tokio::spawn(async move {
            let mut reader = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                if std::env::var_os("TEST_LOG").is_some() {
                    eprintln!("[child] {line}");
                }
                reader_lines.lock().unwrap().push(line);
                reader_notify.notify_waiters();
            }
            reader_notify.notify_waiters();
        });
        let mut process = Self {
            child,
            lines,
            new_line,
            port: 0,
        };
        let listening = process
            .wait_for_log(|v| {
                v["message"]
                    .as_str()
                    .is_some_and(|m| m.ends_with("listening"))
            })
            .await
            .unwrap_or_else(|| {
                panic!(
                    "{bin} did not report listening; logs:\n{}",
                    process.logs().join("\n")
                )
            });
        process.port = listening["fields"]["port"]
            .as_u64()
            .expect("listening line has a port") as u16;
        process
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every stderr line so far.
    pub fn logs(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Waits (up to [`WAIT`]) for a JSON log line that satisfies `pred`.
    pub async fn wait_for_log(
        &self,
        pred: impl Fn(&serde_json::Value) -> bool,
    ) -> Option<serde_json::Value> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let more = self.new_line.notified();
            let found = self
                .lines
                .lock()
                .unwrap()
                .iter()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .find(|v| pred(v));
            if found.is_some() {
                return found;
            }
            if tokio::time::timeout_at(deadline, more).await.is_err() {
                return None;
            }
        }
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub async fn terminate(&mut self) -> ExitStatus {
        let pid = self.child.id().expect("process is running").to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .await
            .expect("kill runs");
        assert!(sent.success(), "kill -TERM {pid} failed");
        tokio::time::timeout(WAIT, self.child.wait())
            .await
            .expect("process exits after SIGTERM")
            .expect("wait works")
    }
}

/// Runs `bin` to completion with only `env`; returns its status and stderr.
pub async fn run_to_exit(
    bin: &str,
    env: &[(&str, &str)],
    timeout: Duration,
) -> (ExitStatus, String) {
    let output = tokio::time::timeout(timeout, command(bin, env).stdin(Stdio::null()).output())
        .await
        .expect("process exits in time")
        .expect("process runs");
    (
        output.status,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn command(bin: &str, env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(bin);
    cmd.env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}
