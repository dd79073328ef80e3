//! The set of services an inbox reads, started for one test.

use std::path::Path;
use std::time::Duration;

use inlet_common::config::{load, ConfigSource};
use inlet_inbox::config::InboxConfig;
use inlet_inbox::startup::{Application, StartupError};
use inlet_testkit::access::ADMIN_TOKEN;
use inlet_testkit::process::{sibling_binary, ServiceProcess};
use inlet_testkit::server::Running;
use inlet_testkit::WAIT;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::Value;

/// The port a JSON log line with `message` names.
async fn port_logged(process: &ServiceProcess, message: &str) -> u16 {
    let line = process
        .wait_for_log(|v| v["message"] == message)
        .await
        .unwrap_or_else(|| panic!("no {message:?} log line"));
    line["fields"]["port"].as_u64().unwrap() as u16
}

/// A gateway, forms, uploads and smtp, publishing to the gateway, storing
/// under one data folder.
pub struct Services {
    pub gateway: ServiceProcess,
    pub forms: ServiceProcess,
    pub uploads: ServiceProcess,
    pub smtp: ServiceProcess,
    /// smtp's SMTP port (its `port` is the mail API's).
    pub smtp_port: u16,
    /// Removed when the services are dropped.
    _data: tempfile::TempDir,
}

impl Services {
    pub async fn start() -> Self {
        inlet_testkit::http::install_crypto_provider();
        let data = tempfile::tempdir().unwrap();
        let data_dir = data.path().display().to_string();
        let gateway = ServiceProcess::start(
            sibling_binary("inlet-gateway").to_str().unwrap(),
            &[
                ("INLET_LISTEN", "127.0.0.1:0"),
                ("INLET_GRPC_LISTEN", "127.0.0.1:0"),
            ],
        )
        .await;
        let grpc = port_logged(&gateway, "event ingest (gRPC) listening").await;
        let ingest = format!("http://127.0.0.1:{grpc}");
        let common = [
            ("INLET_DATA_DIR", data_dir.as_str()),
            ("INLET_GATEWAY_URL", ingest.as_str()),
            ("INLET_LISTEN", "127.0.0.1:0"),
        ];
        let forms =
            ServiceProcess::start(sibling_binary("inlet-forms").to_str().unwrap(), &common).await;
        let uploads =
            ServiceProcess::start(sibling_binary("inlet-uploads").to_str().unwrap(), &common).await;
        let mut smtp_env = common.to_vec();
        smtp_env.extend([
            ("INLET_SMTP_LISTEN", "127.0.0.1:0"),
            ("INLET_ADMIN_LISTEN", "127.0.0.1:0"),
        ]);
        let smtp =
            ServiceProcess::start(sibling_binary("inlet-smtp").to_str().unwrap(), &smtp_env).await;
        let smtp_port = port_logged(&smtp, "inlet-smtp SMTP listening").await;
        // The process kit takes the first "listening" line's port; smtp's
        // mail API is the one named "inlet-smtp listening".
        let mut smtp = smtp;
        smtp.port = port_logged(&smtp, "inlet-smtp listening").await;
        Self {
            gateway,
            forms,
            uploads,
            smtp,
            smtp_port,
            _data: data,
        }
    }

    pub fn url(process: &ServiceProcess) -> String {
        format!("http://127.0.0.1:{}", process.port)
    }

    /// The inbox's configuration for these services, storing its index under `dir`.
    pub fn inbox_env(&self, dir: &Path) -> Vec<(String, String)> {
        vec![
            ("INLET_LISTEN".into(), "127.0.0.1:0".into()),
            ("INLET_DATA_DIR".into(), dir.display().to_string()),
            ("INLET_ADMIN_TOKEN".into(), ADMIN_TOKEN.into()),
            (
                "INLET_READ_TOKEN".into(),
                inlet_testkit::access::READ_TOKEN.into(),
            ),
            ("INLET_INBOX__FORMS_URL".into(), Self::url(&self.forms)),
            ("INLET_INBOX__UPLOADS_URL".into(), Self::url(&self.uploads)),
            ("INLET_INBOX__MAIL_URL".into(), Self::url(&self.smtp)),
            ("INLET_INBOX__GATEWAY_URL".into(), Self::url(&self.gateway)),
            (
                "INLET_INBOX__JAEGER_UI_URL".into(),
                "http://jaeger.test:16686".into(),
            ),
        ]
    }

    /// Posts `json` to forms; its id.
    pub async fn post(&self, json: &str) -> String {
        let answer = inlet_testkit::http::client()
            .post(format!("{}/", Self::url(&self.forms)))
            .header("content-type", "application/json")
            .body(json.to_owned())
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
        // The newest submission is this one.
        let list = inlet_testkit::http::get_json_as_admin(&format!(
            "{}/submissions?limit=1",
            Self::url(&self.forms)
        ))
        .await;
        list["submissions"][0]["id"].as_str().unwrap().to_owned()
    }

    /// PUTs `body` to uploads as `name`; its stored name.
    pub async fn upload(&self, name: &str, body: &[u8]) -> String {
        let answer = inlet_testkit::http::client()
            .put(format!("{}/", Self::url(&self.uploads)))
            .header("x-filename", name)
            .header("x-field", "userfile1")
            .header("accept", "application/json")
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
        let stored: Value = answer.json().await.unwrap();
        stored["stored"][0]["name"].as_str().unwrap().to_owned()
    }

    /// Sends a mail (text, HTML and one attachment) to `you@localhost`
    /// with lettre; its id in the mail API.
    pub async fn mail(&self, from: &str, subject: &str, text: &str, html: &str) -> String {
        let message = Message::builder()
            .from(from.parse().unwrap())
            .to("you@localhost".parse().unwrap())
            .subject(subject)
            .multipart(
                MultiPart::mixed()
                    .multipart(MultiPart::alternative_plain_html(
                        text.to_owned(),
                        html.to_owned(),
                    ))
                    .singlepart(Attachment::new("report.csv".into()).body(
                        b"a,b\n1,2\n".to_vec(),
                        ContentType::parse("text/csv").unwrap(),
                    )),
            )
            .unwrap();
        self.send(message).await
    }

    /// Sends a plain text mail; its id.
    pub async fn plain_mail(&self, from: &str, subject: &str, text: &str) -> String {
        let message = Message::builder()
            .from(from.parse().unwrap())
            .to("you@localhost".parse().unwrap())
            .subject(subject)
            .singlepart(SinglePart::plain(text.to_owned()))
            .unwrap();
        self.send(message).await
    }

    async fn send(&self, message: Message) -> String {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
            .port(self.smtp_port)
            .timeout(Some(WAIT))
            .build();
        transport.send(message).await.expect("the mail is taken");
        let list = inlet_testkit::http::get_json_as_admin(&format!(
            "{}/messages?limit=1",
            Self::url(&self.smtp)
        ))
        .await;
        list["messages"][0]["id"].as_str().unwrap().to_owned()
    }
}

/// An inbox running in this process.
pub struct Inbox {
    pub port: u16,
    running: Running<StartupError>,
}

impl Inbox {
    /// Starts an inbox with `env` and waits until its first sync is done.
    pub async fn start(env: &[(String, String)]) -> Self {
        inlet_testkit::log::init();
        let config: InboxConfig =
            load(&ConfigSource::from_pairs(env.iter().cloned())).expect("a good config");
        let app = Application::build(config).await.expect("the inbox starts");
        let port = app.port();
        let running = Running::spawn(|stopped| app.run_until_stopped(stopped.wait()));
        let inbox = Self { port, running };
        inbox.wait_ready().await;
        inbox
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    async fn wait_ready(&self) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let ready = inlet_testkit::http::admin_client()
                .get(self.url("/readyz"))
                .send()
                .await;
            if ready.is_ok_and(|r| r.status() == 200) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the inbox did not get ready"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// A page as the admin (bearer token), its status and text.
    pub async fn page(&self, path: &str) -> (u16, String) {
        let answer = inlet_testkit::http::admin_client()
            .get(self.url(path))
            .send()
            .await
            .unwrap();
        (answer.status().as_u16(), answer.text().await.unwrap())
    }

    /// The list page for the search `q`.
    pub async fn search(&self, q: &str) -> String {
        let path = format!(
            "/?q={}",
            form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
        );
        let (status, text) = self.page(&path).await;
        assert_eq!(status, 200, "{q}: {text}");
        text
    }

    /// Follows the live stream of the list from its start.
    pub async fn live(&self) -> Live {
        let answer = inlet_testkit::http::admin_client()
            .get(self.url("/live?after=0"))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
        assert_eq!(answer.headers()["content-type"], "text/event-stream");
        Live {
            answer,
            buffer: String::new(),
        }
    }

    /// Stops the inbox as SIGTERM would.
    pub async fn stop(mut self) {
        self.running.stop().await;
    }
}

/// The live stream of the list: its events as `(event, data)`.
pub struct Live {
    answer: reqwest::Response,
    buffer: String,
}

impl Live {
    /// The next event, up to [`WAIT`].
    pub async fn next(&mut self) -> (String, String) {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = String::from("message");
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(name) = line.strip_prefix("event: ") {
                        event = name.to_owned();
                    } else if let Some(text) = line.strip_prefix("data: ") {
                        data.push_str(text);
                    }
                }
                if data.is_empty() && event == "message" {
                    continue; // retry, keepalive
                }
                return (event, data);
            }
            let chunk = tokio::time::timeout(WAIT, self.answer.chunk())
                .await
                .expect("a live event in time")
                .unwrap()
                .expect("the stream goes on");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// Waits until rows holding every one of `texts` have come.
    pub async fn rows_with(&mut self, texts: &[&str]) {
        let mut seen = String::new();
        while !texts.iter().all(|t| seen.contains(t)) {
            let (event, data) = self.next().await;
            if event == "rows" {
                let data: Value = serde_json::from_str(&data).unwrap();
                seen.push_str(data["html"].as_str().unwrap());
            }
        }
    }

    /// Waits for the `removed` event of `item` (`kind:id`).
    pub async fn removed(&mut self, item: &str) {
        loop {
            let (event, data) = self.next().await;
            if event == "removed" && serde_json::from_str::<String>(&data).unwrap() == item {
                return;
            }
        }
    }
}

/// The inbox's path for an item.
pub fn item_path(kind: &str, id: &str) -> String {
    format!(
        "/items/{kind}/{}",
        percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC)
    )
}
