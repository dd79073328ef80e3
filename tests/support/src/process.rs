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
    /// Reads stderr until the process closes it.
    reader: Option<tokio::task::JoinHandle<()>>,
    /// The HTTP port it announced in its "listening" log line.
    pub port: u16,
}

impl ServiceProcess {
    /// Starts `bin` with only `env` (JSON logs unless `env` sets
    /// `INLET_LOG_FORMAT`) and waits for its "listening" log line, which names
    /// the bound port.
    pub async fn start(bin: &str, env: &[(&str, &str)]) -> Self {
        Self::start_with_args(bin, &[], env).await
    }

    /// Like [`ServiceProcess::start`], with arguments (for a wrapper such as
    /// `unshare` that runs the service).
    pub async fn start_with_args(bin: &str, args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut cmd = command(bin, env);
        cmd.args(args);
        if !env.iter().any(|(k, _)| *k == "INLET_LOG_FORMAT") {
            cmd.env("INLET_LOG_FORMAT", "json");
        }
        let mut child = cmd
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
        let lines = Arc::new(Mutex::new(Vec::new()));
        let new_line = Arc::new(Notify::new());
        let stderr = child.stderr.take().expect("stderr is piped");
        let (reader_lines, reader_notify) = (Arc::clone(&lines), Arc::clone(&new_line));
        let reader = tokio::spawn(async move {
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
            reader: Some(reader),
            port: 0,
        };
        let listening = process
            .wait_for_line(|line| line.contains("listening") && port_in(line).is_some())
            .await
            .unwrap_or_else(|| {
                panic!(
                    "{bin} did not report listening; logs:\n{}",
                    process.logs().join("\n")
                )
            });
        process.port = port_in(&listening).expect("the listening line names its port");
        process
    }

    /// The process id (to read its `/proc/<pid>/status`).
    pub fn pid(&self) -> u32 {
        self.child.id().expect("process is running")
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
        let line = self
            .wait_for_line(|l| serde_json::from_str(l).is_ok_and(|v| pred(&v)))
            .await?;
        serde_json::from_str(&line).ok()
    }

    /// Waits (up to [`WAIT`]) for a stderr line that satisfies `pred`.
    pub async fn wait_for_line(&self, pred: impl Fn(&str) -> bool) -> Option<String> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let more = self.new_line.notified();
            let found = self.lines.lock().unwrap().iter().find(|l| pred(l)).cloned();
            if found.is_some() {
                return found;
            }
            if tokio::time::timeout_at(deadline, more).await.is_err() {
                return None;
            }
        }
    }

    /// Sends SIGTERM and waits for the process to exit and for its last log lines.
    pub async fn terminate(&mut self) -> ExitStatus {
        let pid = self.child.id().expect("process is running").to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .await
            .expect("kill runs");
        assert!(sent.success(), "kill -TERM {pid} failed");
        let status = tokio::time::timeout(WAIT, self.child.wait())
            .await
            .expect("process exits after SIGTERM")
            .expect("wait works");
        if let Some(reader) = self.reader.take() {
            tokio::time::timeout(WAIT, reader)
                .await
                .expect("stderr closes after exit")
                .expect("stderr reader joins");
        }
        status
    }
}

impl ServiceProcess {
    /// Kills the process with SIGKILL (a crash: nothing is flushed) and waits for it.
    pub async fn kill(&mut self) -> ExitStatus {
        self.child.start_kill().expect("SIGKILL is sent");
        tokio::time::timeout(WAIT, self.child.wait())
            .await
            .expect("process dies after SIGKILL")
            .expect("wait works")
    }
}

/// The port in a "listening" line, JSON (`"port":N`) or text (`port=N`).
fn port_in(line: &str) -> Option<u16> {
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(line) {
        return v["fields"]["port"]
            .as_u64()
            .and_then(|p| u16::try_from(p).ok());
    }
    let rest = &line[line.find(" port=")? + 6..];
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// Runs `bin` with `args` to completion, with only `env`; returns its status and stderr.
pub async fn run_to_exit(
    bin: &str,
    args: &[&str],
    env: &[(&str, &str)],
    timeout: Duration,
) -> (ExitStatus, String) {
    let mut cmd = command(bin, env);
    cmd.args(args).stdin(Stdio::null());
    let output = tokio::time::timeout(timeout, cmd.output())
        .await
        .expect("process exits in time")
        .expect("process runs");
    (
        output.status,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `bin` with a clean environment: PATH, the test credentials
/// ([`crate::access::CREDENTIAL_ENV`]), then `env`, which may override them.
fn command(bin: &str, env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(bin);
    cmd.env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    for (k, v) in crate::access::CREDENTIAL_ENV {
        cmd.env(k, v);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// The path of another workspace binary (say `inlet-forms`), built beside
/// the running test (`cargo nextest run --workspace` and `cargo test
/// --workspace` build every binary). Panics, saying how to build it, when
/// it is not there.
pub fn sibling_binary(name: &str) -> std::path::PathBuf {
    let test_exe = std::env::current_exe().expect("the test knows its path");
    // target/<profile>/deps/<test> → target/<profile>/<name>
    let profile_dir = test_exe
        .parent()
        .and_then(std::path::Path::parent)
        .expect("the test runs from target/<profile>/deps");
    let path = profile_dir.join(name);
    assert!(
        path.is_file(),
        "{} is not built: run the tests with --workspace (or `cargo build -p {name}` first)",
        path.display()
    );
    path
}

/// A memory figure of `pid` from `/proc/<pid>/status` (`VmRSS`, `VmHWM`, …), in KiB.
fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/{pid}/status"))
}

/// The resident memory of `pid` now (`VmRSS`), in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    status_kib(pid, "VmRSS")
}

/// The peak resident memory of `pid` so far (`VmHWM`), in KiB.
pub fn peak_rss_kib(pid: u32) -> u64 {
    status_kib(pid, "VmHWM")
}

/// The program `name` on the PATH, or else in the first of `extra_dirs`
/// that has it (Debian puts server programs off a user's PATH); just
/// `name` when none has it, so that starting it says what is missing.
pub fn find_program(name: &str, extra_dirs: &[std::path::PathBuf]) -> std::path::PathBuf {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .chain(extra_dirs.iter().cloned())
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
        .unwrap_or_else(|| std::path::PathBuf::from(name))
}
