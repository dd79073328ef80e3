//! Starting the service in-process and looking at what it stored.

use std::path::PathBuf;

use inlet_common::config::{load, ConfigSource};
use inlet_testkit::server::Running;
use inlet_uploads::config::UploadsConfig;
use inlet_uploads::startup::{Application, StartupError};
use tempfile::TempDir;

/// An uploads service running in this process on a free port.
pub struct TestApp {
    pub port: u16,
    pub data_dir: TempDir,
    pub client: reqwest::Client,
    server: Running<StartupError>,
}

/// Starts the service with default config plus `extra` `INLET_*` pairs.
pub async fn spawn_app(extra: &[(&str, &str)]) -> TestApp {
    inlet_testkit::log::init();
    let data_dir = tempfile::tempdir().unwrap();
    let mut pairs = vec![
        ("INLET_LISTEN".to_string(), "127.0.0.1:0".to_string()),
        (
            "INLET_DATA_DIR".to_string(),
            data_dir.path().display().to_string(),
        ),
    ];
    pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let config: UploadsConfig =
        load(&ConfigSource::from_pairs(pairs)).expect("test config is valid");
    let app = Application::build(config).await.expect("app builds");
    let port = app.port();
    let server = Running::spawn(|stopped| app.run_until_stopped(stopped.wait()));
    TestApp {
        port,
        data_dir,
        client: inlet_testkit::http::client(),
        server,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn uploads_dir(&self) -> PathBuf {
        self.data_dir.path().join("uploads")
    }

    /// Every entry of the uploads folder, sorted.
    pub fn stored(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.uploads_dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// PUTs `body` as `name` from field `field`, asking for JSON.
    pub async fn put(
        &self,
        field: &str,
        name: &str,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        self.client
            .put(self.url("/"))
            .header("x-field", field)
            .header("x-filename", name)
            .header("accept", "application/json")
            .body(body)
            .send()
            .await
            .expect("request completes")
    }

    /// Stops the service gracefully.
    pub async fn stop(mut self) {
        self.server.stop().await;
    }
}
