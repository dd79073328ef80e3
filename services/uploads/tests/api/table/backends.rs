//! The two backends a table case runs on, and how a case looks at what
//! each really holds (the folder; the bucket's objects and open uploads).

use std::time::Duration;

use aws_sdk_s3::Client;
use inlet_testkit::s3::S3Server;
use inlet_uploads::store::s3::settings::S3Settings;

use tempfile::TempDir;

use crate::helpers::{spawn_app_in, TestApp};

/// Which store a case runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Volume,
    S3,
}

/// The bucket the S3 cases use.
const BUCKET: &str = "inlet-table";

/// The smallest part S3 allows, so that "large" files stay small.
pub const PART_BYTES: usize = 5 * 1024 * 1024;

/// What a stopped backend keeps for the next start: its data folder and
/// its S3 server, if any.
pub struct Kept {
    data_dir: TempDir,
    s3: Option<S3Server>,
}

/// A running uploads service on one backend.
pub struct Backend {
    pub app: TestApp,
    s3: Option<(S3Server, Client)>,
}

impl Backend {
    /// Starts the service on `kind` with `extra` settings.
    pub async fn start(kind: Kind, extra: &[(&str, &str)]) -> Self {
        let server = match kind {
            Kind::Volume => None,
            Kind::S3 => Some(S3Server::start().await),
        };
        let kept = Kept {
            data_dir: tempfile::tempdir().unwrap(),
            s3: server,
        };
        Self::restart(kept, extra).await
    }

    /// Starts the service again on what a stopped one kept.
    pub async fn restart(kept: Kept, extra: &[(&str, &str)]) -> Self {
        let Kept {
            data_dir,
            s3: server,
        } = kept;
        let part = PART_BYTES.to_string();
        let mut pairs: Vec<(String, String)> = Vec::new();
        if let Some(server) = &server {
            pairs.extend(server.uploads_env(BUCKET));
            pairs.push(("INLET_STORE__S3__PART_BYTES".into(), part));
        }
        pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let borrowed: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let app = spawn_app_in(data_dir, &borrowed).await;
        let s3 = server.map(|server| {
            let client = client(&server.endpoint());
            (server, client)
        });
        Self { app, s3 }
    }

    /// Stops the service, keeping its folder and S3 server for another start.
    pub async fn stop(self) -> Kept {
        Kept {
            data_dir: self.app.stop_keeping_data().await,
            s3: self.s3.map(|(server, _)| server),
        }
    }

    /// A store on the same folder or bucket the service uses.
    pub async fn open_store(&self) -> inlet_uploads::store::Store {
        use inlet_uploads::store::{FsStore, S3Store, Store, SyncSettings};
        let gauge = prometheus_client::metrics::gauge::Gauge::default();
        match &self.s3 {
            None => {
                let (store, _) = FsStore::open(self.app.uploads_dir(), gauge, SyncSettings::Always)
                    .await
                    .unwrap();
                Store::Volume(store)
            }
            Some((server, _)) => {
                let store = S3Store::open(&settings(&server.endpoint()), gauge)
                    .await
                    .unwrap();
                Store::S3(store)
            }
        }
    }

    /// The names of the stored files, sorted, as the store holds them.
    pub async fn stored(&self) -> Vec<String> {
        match &self.s3 {
            None => self
                .app
                .stored()
                .into_iter()
                .filter(|name| !name.starts_with('.'))
                .collect(),
            Some((_, client)) => {
                let mut names: Vec<String> = keys(client, "files/")
                    .await
                    .into_iter()
                    .map(|key| key["files/".len()..].to_owned())
                    .collect();
                names.sort();
                names
            }
        }
    }

    /// Everything held that is not a stored file: temporary files, staging
    /// objects, multipart uploads not completed or aborted.
    pub async fn leftovers(&self) -> Vec<String> {
        match &self.s3 {
            None => self
                .app
                .stored()
                .into_iter()
                .filter(|name| name.starts_with('.'))
                .collect(),
            Some((_, client)) => {
                let mut left = keys(client, "incoming/").await;
                let uploads = client
                    .list_multipart_uploads()
                    .bucket(BUCKET)
                    .send()
                    .await
                    .expect("list uploads");
                left.extend(
                    uploads
                        .uploads()
                        .iter()
                        .map(|u| format!("upload of {}", u.key().unwrap_or_default())),
                );
                left
            }
        }
    }

    /// Waits until nothing is being received and nothing is left over
    /// (an abort or delete after a refusal runs in the background).
    pub async fn wait_until_clean(&self) {
        let deadline = tokio::time::Instant::now() + inlet_testkit::WAIT;
        loop {
            let left = self.leftovers().await;
            let receiving = self.app.metric("inlet_uploads_incoming_files").await;
            if left.is_empty() && receiving == 0.0 {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "left behind: {left:?}, {receiving} files still being received"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Plants what a crash leaves: a temporary file, or an open multipart
    /// upload and a staging object.
    pub async fn plant_leftovers(&self) {
        match &self.s3 {
            None => std::fs::write(
                self.app.uploads_dir().join(format!(
                    ".incoming-crashed.{}",
                    inlet_uploads::store::this_machine()
                )),
                b"half a file",
            )
            .unwrap(),
            Some((_, client)) => {
                client
                    .create_multipart_upload()
                    .bucket(BUCKET)
                    .key("incoming/crashed-upload")
                    .send()
                    .await
                    .expect("start an upload");
                client
                    .put_object()
                    .bucket(BUCKET)
                    .key("incoming/crashed-staging")
                    .body(b"half a file".to_vec().into())
                    .send()
                    .await
                    .expect("put a staging object");
            }
        }
    }
}

/// Every key under `prefix` in the test bucket.
async fn keys(client: &Client, prefix: &str) -> Vec<String> {
    let listed = client
        .list_objects_v2()
        .bucket(BUCKET)
        .prefix(prefix)
        .send()
        .await
        .expect("list the bucket");
    listed
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect()
}

/// The settings of the test bucket on the server at `endpoint`.
fn settings(endpoint: &str) -> S3Settings {
    S3Settings {
        endpoint: endpoint.to_owned(),
        bucket: BUCKET.to_owned(),
        part_bytes: PART_BYTES as u64,
        access_key_id: inlet_testkit::s3::ACCESS_KEY_ID.to_owned(),
        secret_access_key: inlet_testkit::s3::SECRET_ACCESS_KEY.to_owned(),
        ..S3Settings::default()
    }
}

/// A client of the test server, built as the service builds its own.
fn client(endpoint: &str) -> Client {
    inlet_uploads::store::s3::client::build(&settings(endpoint))
}
