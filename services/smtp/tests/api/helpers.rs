//! Starting the service in-process and talking SMTP to it.

use std::path::{Path, PathBuf};

use inlet_common::config::{load, ConfigSource};
use inlet_smtp::config::SmtpConfig;
use inlet_smtp::startup::{Application, StartupError};
use inlet_testkit::server::Running;
use inlet_testkit::WAIT;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// An SMTP service running in this process on free ports.
pub struct TestSmtp {
    pub port: u16,
    pub admin_port: u16,
    pub data_dir: tempfile::TempDir,
    server: Running<StartupError>,
}

/// Starts the service with default config (plus `extra` `INLET_*` pairs).
pub async fn spawn_smtp(extra: &[(&str, &str)]) -> TestSmtp {
    let data_dir = tempfile::tempdir().unwrap();
    let mut pairs = vec![
        ("INLET_SMTP_LISTEN".to_string(), "127.0.0.1:0".to_string()),
        ("INLET_ADMIN_LISTEN".to_string(), "127.0.0.1:0".to_string()),
        (
            "INLET_DATA_DIR".to_string(),
            data_dir.path().display().to_string(),
        ),
    ];
    pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    inlet_testkit::log::init();
    let config: SmtpConfig = load(&ConfigSource::from_pairs(pairs)).expect("test config is valid");
    let app = Application::build(config).await.expect("smtp builds");
    let (port, admin_port) = (app.smtp_port(), app.admin_port());
    let server = Running::spawn(|stopped| app.run_until_stopped(stopped.wait()));
    TestSmtp {
        port,
        admin_port,
        data_dir,
        server,
    }
}

impl TestSmtp {
    /// Asks the service to stop, as SIGTERM would, without waiting.
    pub fn begin_stop(&mut self) {
        self.server.begin_stop();
    }

    /// `<data>/mail/<user>/<folder>`.
    pub fn folder(&self, user: &str, folder: &str) -> PathBuf {
        self.data_dir.path().join("mail").join(user).join(folder)
    }

    /// The files in a mailbox's `new/`, read whole.
    pub fn new_mail(&self, user: &str) -> Vec<Vec<u8>> {
        files(&self.folder(user, "new"))
            .iter()
            .map(|p| std::fs::read(p).unwrap())
            .collect()
    }

    /// Whether nothing at all is stored in any mailbox folder.
    pub fn nothing_stored(&self) -> bool {
        ["you", "another"].iter().all(|user| {
            ["tmp", "new", "cur"]
                .iter()
                .all(|folder| files(&self.folder(user, folder)).is_empty())
        })
    }

    /// A raw SMTP conversation, greeting read.
    pub async fn dial(&self) -> Dialogue {
        let mut dialogue = connect(self.port).await;
        let greeting = dialogue.reply().await;
        assert!(greeting.starts_with("220 "), "{greeting}");
        dialogue
    }
}

/// A raw connection to `port`, nothing read yet.
pub async fn connect(port: u16) -> Dialogue {
    let stream = tokio::time::timeout(WAIT, TcpStream::connect(("127.0.0.1", port)))
        .await
        .unwrap()
        .unwrap();
    let (read, write) = stream.into_split();
    Dialogue {
        reader: BufReader::new(read),
        writer: write,
    }
}

fn files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| entries.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default()
}

/// One SMTP session over raw TCP.
pub struct Dialogue {
    reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
    pub writer: tokio::net::tcp::OwnedWriteHalf,
}

impl Dialogue {
    /// The next whole reply (all its lines), waiting up to WAIT.
    pub async fn reply(&mut self) -> String {
        let mut whole = String::new();
        loop {
            let mut line = String::new();
            let read = tokio::time::timeout(WAIT, self.reader.read_line(&mut line))
                .await
                .expect("a reply in time")
                .unwrap();
            assert!(
                read > 0,
                "the server closed the connection; so far: {whole}"
            );
            whole.push_str(&line);
            if line.len() < 4 || line.as_bytes()[3] != b'-' {
                return whole;
            }
        }
    }

    /// Sends `line` (CRLF added) and gives the reply's code.
    pub async fn say(&mut self, line: &str) -> u16 {
        self.send(format!("{line}\r\n").as_bytes()).await;
        let reply = self.reply().await;
        reply[..3]
            .parse()
            .unwrap_or_else(|_| panic!("not a reply: {reply}"))
    }

    /// `MAIL FROM:<me@me.com>`, a `RCPT TO` for each of `recipients` and
    /// `DATA`, each answered as it should be (250 … 354).
    pub async fn start_message(&mut self, recipients: &[&str]) {
        assert_eq!(self.say("mail from:<me@me.com>").await, 250);
        for rcpt in recipients {
            assert_eq!(self.say(&format!("rcpt to:<{rcpt}>")).await, 250, "{rcpt}");
        }
        assert_eq!(self.say("data").await, 354);
    }

    /// Whether the server has closed the connection (reads its end, up to WAIT).
    pub async fn closed(&mut self) -> bool {
        let mut rest = String::new();
        let read = tokio::time::timeout(WAIT, self.reader.read_line(&mut rest)).await;
        matches!(read, Ok(Ok(0)) | Ok(Err(_)))
    }

    /// Sends raw bytes.
    pub async fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).await.unwrap();
    }
}
