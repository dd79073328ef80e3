//! Starting the service in-process and talking SMTP to it.

use std::path::{Path, PathBuf};

use inlet_common::config::{load, ConfigSource};
use inlet_smtp::config::SmtpConfig;
use inlet_smtp::startup::{Application, StartupError};
use inlet_testkit::server::Running;
use inlet_testkit::smtp::{self, Dialogue};
use tokio::net::TcpStream;

/// An SMTP service running in this process on free ports.
pub struct TestSmtp {
    pub port: u16,
    pub admin_port: u16,
    /// The mail API's port.
    pub http_port: u16,
    pub data_dir: tempfile::TempDir,
    server: Running<StartupError>,
}

/// Starts the service with default config (plus `extra` `INLET_*` pairs).
pub async fn spawn_smtp(extra: &[(&str, &str)]) -> TestSmtp {
    let data_dir = tempfile::tempdir().unwrap();
    let mut pairs = vec![
        ("INLET_SMTP_LISTEN".to_string(), "127.0.0.1:0".to_string()),
        ("INLET_ADMIN_LISTEN".to_string(), "127.0.0.1:0".to_string()),
        ("INLET_LISTEN".to_string(), "127.0.0.1:0".to_string()),
        (
            "INLET_DATA_DIR".to_string(),
            data_dir.path().display().to_string(),
        ),
    ];
    pairs.extend(
        inlet_testkit::access::CREDENTIAL_ENV
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    inlet_testkit::log::init();
    let config: SmtpConfig = load(&ConfigSource::from_pairs(pairs)).expect("test config is valid");
    let app = Application::build(config).await.expect("smtp builds");
    let (port, admin_port) = (app.smtp_port(), app.admin_port());
    let http_port = app.http_port().expect("the mail API listens");
    let server = Running::spawn(|stopped| app.run_until_stopped(stopped.wait()));
    TestSmtp {
        port,
        admin_port,
        http_port,
        data_dir,
        server,
    }
}

impl TestSmtp {
    /// `http://127.0.0.1:HTTP_PORT` + `path`, on the mail API.
    pub fn api(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.http_port)
    }

    /// Sends `message` (CRLF lines, without the final dot, no line
    /// starting with a dot) to `you@example.com`.
    pub async fn deliver(&self, message: &[u8]) {
        let mut dialogue = self.dial().await;
        assert_eq!(dialogue.say("helo client").await, 250);
        dialogue.start_message(&["you@example.com"]).await;
        dialogue.send(message).await;
        dialogue.send(b"\r\n.\r\n").await;
        assert_eq!(dialogue.code().await, 250);
        assert_eq!(dialogue.say("quit").await, 221);
    }

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

    /// The file names in `user`'s `new/`.
    pub fn new_mail_names(&self, user: &str) -> Vec<String> {
        files(&self.folder(user, "new"))
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
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
    pub async fn dial(&self) -> Dialogue<TcpStream> {
        let mut dialogue = smtp::connect(self.port).await;
        let greeting = dialogue.reply().await;
        assert!(greeting.starts_with("220 "), "{greeting}");
        dialogue
    }
}

fn files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| entries.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default()
}
