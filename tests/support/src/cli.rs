//! The `inlet` command-line client run as a user runs it: arguments and
//! input in, exit status and output back; or left running (`inlet events`)
//! with its output read line by line.

use std::path::Path;
use std::process::{ExitStatus, Stdio};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use crate::WAIT;

/// A finished run.
#[derive(Debug)]
pub struct Run {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The exit code (panics when it died by a signal).
    pub fn code(&self) -> i32 {
        self.status
            .code()
            .unwrap_or_else(|| panic!("inlet died by a signal: {self:?}"))
    }

    /// The trace id `--trace` printed on stderr (`trace <id>`).
    pub fn trace_id(&self) -> String {
        self.stderr
            .lines()
            .find_map(|l| l.strip_prefix("trace "))
            .unwrap_or_else(|| panic!("no trace id printed: {}", self.stderr))
            .to_owned()
    }
}

/// `bin args…` with a clean environment (PATH, no colours, the test admin
/// token as `INLET_TOKEN`) plus `env`, which may override them.
pub fn command(bin: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(bin);
    cmd.env_clear().args(args).kill_on_drop(true);
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    cmd.env("NO_COLOR", "1");
    cmd.env("INLET_TOKEN", crate::access::ADMIN_TOKEN);
    for (key, value) in env {
        cmd.env(key, value);
    }
    cmd
}

/// Runs `bin args…` with `stdin` to its end, bounded by [`WAIT`].
pub async fn run(bin: &Path, args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Run {
    let mut child = command(bin, args, env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let mut input = child.stdin.take().expect("stdin is piped");
    let stdin = stdin.to_vec();
    let writer = tokio::spawn(async move {
        // A command that does not read its input may close it first.
        let _ = input.write_all(&stdin).await;
    });
    let output = tokio::time::timeout(WAIT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("inlet {args:?} did not finish in time"))
        .expect("inlet runs");
    writer.await.unwrap();
    Run {
        status: output.status,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A command left running (`inlet events`), its output read line by line.
pub struct Follower {
    child: Child,
    stdout: mpsc::UnboundedReceiver<String>,
    stderr: mpsc::UnboundedReceiver<String>,
}

fn lines_of(stream: impl AsyncRead + Unpin + Send + 'static) -> mpsc::UnboundedReceiver<String> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let _ = tx.send(line);
        }
    });
    rx
}

impl Follower {
    /// Starts `bin args…` with no input.
    pub fn start(bin: &Path, args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut child = command(bin, args, env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let stdout = lines_of(child.stdout.take().expect("piped"));
        let stderr = lines_of(child.stderr.take().expect("piped"));
        Self {
            child,
            stdout,
            stderr,
        }
    }

    /// The next line on stdout, within [`WAIT`].
    pub async fn next(&mut self) -> String {
        tokio::time::timeout(WAIT, self.stdout.recv())
            .await
            .expect("a line in time")
            .expect("the command is still running")
    }

    /// The next line on stdout as JSON.
    pub async fn next_json(&mut self) -> serde_json::Value {
        let line = self.next().await;
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
    }

    /// Waits for a line on stderr containing `text`; gives it and the lines before it.
    pub async fn status(&mut self, text: &str) -> Vec<String> {
        let mut seen = Vec::new();
        let found = tokio::time::timeout(WAIT, async {
            while let Some(line) = self.stderr.recv().await {
                let found = line.contains(text);
                seen.push(line);
                if found {
                    return true;
                }
            }
            false
        })
        .await;
        assert!(
            found == Ok(true),
            "no line with {text:?} on stderr; it said {seen:?}"
        );
        seen
    }

    /// Sends SIGINT (Ctrl+C) and gives the exit status.
    pub async fn interrupt(mut self) -> ExitStatus {
        let pid = self.child.id().expect("still running");
        let pid = nix::unistd::Pid::from_raw(i32::try_from(pid).expect("a pid fits"));
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).expect("SIGINT is sent");
        tokio::time::timeout(WAIT, self.child.wait())
            .await
            .expect("it ends on Ctrl+C")
            .expect("it can be waited for")
    }
}
