//! Starting the service in-process and talking to it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use inlet_common::config::{load, ConfigSource};
use inlet_forms::config::FormsConfig;
use inlet_forms::startup::{Application, StartupError};
use inlet_forms::store::{segment_files, Store};
use inlet_testkit::raw::{self, RawReply};
use inlet_testkit::server::Running;
use prometheus_parse::{Sample, Scrape, Value};
use tempfile::TempDir;

/// The default body cap (2 MiB), as the issue and README state it.
pub const DEFAULT_CAP: usize = 2 * 1024 * 1024;

/// A forms service running in this process on a free port.
pub struct TestApp {
    pub port: u16,
    pub data_dir: TempDir,
    pub client: reqwest::Client,
    /// The service's store, to stop the journal's writer from outside.
    pub store: Arc<Store>,
    /// The admin listener's port, when the test asked for one.
    pub admin_port: Option<u16>,
    server: Running<StartupError>,
}

/// Starts the service with default config (plus `extra` `INLET_*` pairs) in a fresh data dir.
pub async fn spawn_app(extra: &[(&str, &str)]) -> TestApp {
    spawn_in(tempfile::tempdir().unwrap(), extra).await
}

/// Starts the service on an existing data dir (a restart).
pub async fn spawn_in(data_dir: TempDir, extra: &[(&str, &str)]) -> TestApp {
    let dir = data_dir.path().display().to_string();
    let mut pairs = vec![
        ("INLET_LISTEN".to_string(), "127.0.0.1:0".to_string()),
        ("INLET_DATA_DIR".to_string(), dir),
    ];
    pairs.extend(
        inlet_testkit::access::CREDENTIAL_ENV
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    inlet_testkit::log::init();
    let config: FormsConfig = load(&ConfigSource::from_pairs(pairs)).expect("test config is valid");
    let app = Application::build(config).await.expect("app builds");
    let port = app.port();
    let admin_port = app.admin_port();
    let store = app.store();
    let server = Running::spawn(|stopped| app.run_until_stopped(stopped.wait()));
    TestApp {
        port,
        admin_port,
        data_dir,
        client: inlet_testkit::http::admin_client(),
        store,
        server,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The forms folder in the service's data dir.
    pub fn forms_dir(&self) -> PathBuf {
        self.data_dir.path().join("forms")
    }

    /// The journal's text: every segment, oldest first.
    pub fn journal_text(&self) -> String {
        journal_text_in(&self.forms_dir())
    }

    /// The data file of the segment being written.
    pub fn last_segment(&self) -> PathBuf {
        segment_files(&self.forms_dir())
            .unwrap()
            .pop()
            .expect("the journal has a segment")
    }

    /// Every stored record, parsed; panics on a line that is not JSON.
    pub fn stored(&self) -> Vec<serde_json::Value> {
        let text = self.journal_text();
        text.lines()
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| panic!("bad journal line {l:?}: {e}"))
            })
            .collect()
    }

    pub async fn post(
        &self,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        self.client
            .post(self.url("/"))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request completes")
    }

    /// GETs `path` and parses the JSON answer.
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request completes")
            .json()
            .await
            .expect("answer is JSON")
    }

    /// Checks that a bad request did not leave the service unable to take the next one.
    pub async fn assert_still_serving(&self) {
        let res = self
            .post("application/x-www-form-urlencoded", "still=here")
            .await;
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        assert_eq!(status, 200, "the service still takes posts: {text}");
    }

    /// Asks the service to stop (as SIGTERM would) without waiting for it;
    /// [`TestApp::stop`] then waits.
    pub fn begin_stop(&mut self) {
        self.server.begin_stop();
    }

    /// Stops the service gracefully (if not begun already), waits until it
    /// has, and hands back its data dir.
    pub async fn stop(mut self) -> TempDir {
        self.server.stop().await;
        self.data_dir
    }

    /// Sends raw bytes, optionally closes the write side, and reads until the
    /// server closes the connection (bounded by `limit`).
    pub async fn raw(&self, request: &[u8], close_write: bool, limit: Duration) -> RawReply {
        raw::send(self.port, request, close_write, limit).await
    }
}

/// `/metrics` of the service at `base` (`http://host:port`), parsed.
pub async fn scrape_at(base: &str) -> Scrape {
    let text = inlet_testkit::http::get_text_as_admin(&format!("{base}/metrics")).await;
    Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).expect("valid exposition text")
}

/// The value of the one sample named `name` whose labels include `labels`.
pub fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    let matching: Vec<&Sample> = scrape
        .samples
        .iter()
        .filter(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .collect();
    assert_eq!(
        matching.len(),
        1,
        "{name} {labels:?} in {:#?}",
        scrape.samples
    );
    match &matching[0].value {
        Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
        other => panic!("{name} is not a number: {other:?}"),
    }
}

/// The journal's text in `forms_dir`: every segment, oldest first (empty
/// when there is no journal yet).
pub fn journal_text_in(forms_dir: &Path) -> String {
    segment_files(forms_dir)
        .unwrap_or_default()
        .iter()
        .map(|file| std::fs::read_to_string(file).unwrap())
        .collect()
}
