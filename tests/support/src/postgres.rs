//! A real PostgreSQL server (Debian's package) in a folder of its own, on a
//! free port, for the tests of the forms PostgreSQL store. It can be
//! stopped and started again on the same port and data, as an operator
//! would, and is shut down when dropped.
//!
//! PostgreSQL will not run as root: when the tests are root, the server
//! runs as the `postgres` user the package made, in a folder given to it.

use std::os::unix::fs::chown;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::WAIT;

/// A running `postgres` with one superuser, `inlet`, trusted on loopback.
pub struct PostgresServer {
    child: Option<Child>,
    port: u16,
    folder: tempfile::TempDir,
    owner: Option<(u32, u32)>,
}

impl PostgresServer {
    /// Makes a new cluster (`initdb`) and starts it on a free port.
    pub async fn start() -> Self {
        let folder = tempfile::tempdir().expect("temp folder");
        let owner = if nix::unistd::geteuid().is_root() {
            let owner = postgres_user();
            chown(folder.path(), Some(owner.0), Some(owner.1))
                .expect("give the folder to postgres");
            Some(owner)
        } else {
            None
        };
        let mut server = Self {
            child: None,
            port: 0,
            folder,
            owner,
        };
        let status = server
            .command("initdb")
            .args([
                "-U",
                "inlet",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
                "-D",
            ])
            .arg(server.data())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .await
            .unwrap_or_else(|e| panic!("cannot run initdb (apt-get install postgresql): {e}"));
        assert!(
            status.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&status.stderr)
        );
        for _ in 0..5 {
            let port = free_port();
            if server.spawn(port).await {
                server.port = port;
                return server;
            }
        }
        panic!("postgres did not start on any of five free ports");
    }

    /// `postgres://inlet@127.0.0.1:<port>/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://inlet@127.0.0.1:{}/postgres", self.port)
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops it at once (an immediate shutdown: clients are cut off) and
    /// waits for it to exit.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            quit_now(&child);
            let _ = tokio::time::timeout(WAIT, child.wait()).await;
        }
    }

    /// Starts it again on the same port and data.
    pub async fn start_again(&mut self) {
        self.stop().await;
        let deadline = Instant::now() + WAIT;
        // The port may linger for a moment after the old server went.
        while !self.spawn(self.port).await {
            assert!(Instant::now() < deadline, "postgres did not start again");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn data(&self) -> PathBuf {
        self.folder.path().join("data")
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(binary(program));
        if let Some((uid, gid)) = self.owner {
            command.uid(uid).gid(gid);
        }
        command
    }

    /// Starts the server on `port`; true once it accepts connections,
    /// false when it could not start there.
    async fn spawn(&mut self, port: u16) -> bool {
        let mut child = self
            .command("postgres")
            .arg("-D")
            .arg(self.data())
            .args(["-p", &port.to_string(), "-k"])
            .arg(self.folder.path())
            .args([
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "max_connections=200",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start postgres (apt-get install postgresql): {e}"));
        let mut lines = BufReader::new(child.stderr.take().expect("piped")).lines();
        let ready = tokio::time::timeout(WAIT, async {
            while let Ok(Some(line)) = lines.next_line().await {
                if line.contains("ready to accept connections") {
                    return true;
                }
            }
            false
        })
        .await
        .unwrap_or(false);
        if !ready {
            let _ = child.kill().await;
            return false;
        }
        // Keep reading, or the server blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        self.child = Some(child);
        true
    }
}

impl Drop for PostgresServer {
    /// An immediate shutdown, waited for, so no server outlives its test.
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            quit_now(&child);
            let deadline = Instant::now() + WAIT;
            while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// Asks the server for an immediate shutdown (SIGQUIT: no checkpoint, the
/// next start recovers from the WAL).
fn quit_now(child: &Child) {
    if let Some(pid) = child.id() {
        let _ = kill(Pid::from_raw(pid as i32), Signal::SIGQUIT);
    }
}

/// A port nothing listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

/// The `postgres` user's ids, from /etc/passwd.
fn postgres_user() -> (u32, u32) {
    let passwd = std::fs::read_to_string("/etc/passwd").expect("read /etc/passwd");
    passwd
        .lines()
        .find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            (fields.first() == Some(&"postgres") && fields.len() > 3)
                .then(|| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
                .flatten()
        })
        .expect("a postgres user (apt-get install postgresql)")
}

/// A PostgreSQL program: on the PATH, or in the newest of Debian's
/// `/usr/lib/postgresql/<version>/bin`.
fn binary(program: &str) -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin"))
        .collect();
    versions.sort_by_key(|dir| {
        dir.parent()
            .and_then(Path::file_name)
            .and_then(|name| name.to_str()?.parse::<u32>().ok())
    });
    versions.reverse();
    crate::process::find_program(program, &versions)
}
