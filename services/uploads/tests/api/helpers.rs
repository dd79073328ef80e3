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

/// A multipart file part.
pub fn file_part(name: &str, bytes: Vec<u8>) -> reqwest::multipart::Part {
    reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned())
}

/// Deterministic, non-repeating-looking test bytes.
pub fn bytes(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

/// Starts the service with default config plus `extra` `INLET_*` pairs.
pub async fn spawn_app(extra: &[(&str, &str)]) -> TestApp {
    spawn_app_in(tempfile::tempdir().unwrap(), extra).await
}

/// Starts the service as [`spawn_app`] does, on the data folder `data_dir`
/// (one a stopped service left, say).
pub async fn spawn_app_in(data_dir: TempDir, extra: &[(&str, &str)]) -> TestApp {
    inlet_testkit::log::init();
    let mut pairs = vec![
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
    let config: UploadsConfig =
        load(&ConfigSource::from_pairs(pairs)).expect("test config is valid");
    let app = Application::build(config).await.expect("app builds");
    let port = app.port();
    let server = Running::spawn(|stopped| app.run_until_stopped(stopped.wait()));
    TestApp {
        port,
        data_dir,
        client: inlet_testkit::http::admin_client(),
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

    /// Checks that the folder holds one file, named `<prefix>…<suffix>`,
    /// holding `content`.
    pub fn assert_only_file(&self, prefix: &str, suffix: &str, content: &[u8]) {
        let stored = self.stored();
        assert_eq!(stored.len(), 1, "{stored:?}");
        assert!(
            stored[0].starts_with(prefix) && stored[0].ends_with(suffix),
            "{stored:?}"
        );
        assert_eq!(
            std::fs::read(self.uploads_dir().join(&stored[0])).unwrap(),
            content
        );
    }

    /// Checks that every stored file lies directly in the uploads folder
    /// under a plain visible name, and nothing was written beside the folder;
    /// returns how many files there are.
    pub fn assert_all_inside_uploads(&self) -> usize {
        let stored = self.stored();
        for name in &stored {
            let path = self.uploads_dir().join(name);
            assert!(path.is_file(), "{name}");
            assert_eq!(path.parent().unwrap(), self.uploads_dir(), "{name}");
            assert!(
                !name.starts_with('.') && !name.chars().any(char::is_control),
                "{name:?}"
            );
            assert!(name.len() <= 200, "{name}");
        }
        let top: Vec<_> = std::fs::read_dir(self.data_dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            top,
            ["uploads"],
            "nothing written beside the uploads folder"
        );
        stored.len()
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

    /// POSTs `form` as multipart, asking for JSON.
    pub async fn post_form(&self, form: reqwest::multipart::Form) -> reqwest::Response {
        self.client
            .post(self.url("/"))
            .header("accept", "application/json")
            .multipart(form)
            .send()
            .await
            .expect("request completes")
    }

    /// The value of the unlabelled metric `name` (`_total` included for counters).
    pub async fn metric(&self, name: &str) -> f64 {
        let text = self
            .client
            .get(self.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .find_map(|line| {
                let (key, value) = line.split_once(' ')?;
                (key == name).then(|| value.parse().unwrap())
            })
            .unwrap_or(0.0)
    }

    /// Waits until no temporary file is being written and the uploads
    /// folder holds no temporary file (a cut upload is cleaned up when the
    /// server notices the cut).
    pub async fn wait_until_no_incoming(&self) {
        let deadline = tokio::time::Instant::now() + inlet_testkit::WAIT;
        loop {
            let temp_left = self.stored().iter().any(|n| n.starts_with(".incoming-"));
            if !temp_left && self.metric("inlet_uploads_incoming_files").await == 0.0 {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "temporary files stayed: {:?}",
                self.stored()
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Stops the service gracefully.
    pub async fn stop(mut self) {
        self.server.stop().await;
    }

    /// Stops the service gracefully, keeping its data folder for another start.
    pub async fn stop_keeping_data(mut self) -> TempDir {
        self.server.stop().await;
        self.data_dir
    }
}
