//! The `inlet-uploads` binary as its own process: memory while a 1 GiB
//! upload streams through, and a disk that fills up.

use std::time::Duration;

use futures_util::StreamExt;
use inlet_testkit::process::ServiceProcess;
use reqwest::multipart::{Form, Part};
use sha2::{Digest, Sha256};
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_inlet-uploads");

/// The resident set size of `pid`, in bytes.
fn rss_bytes(pid: u32) -> u64 {
    inlet_testkit::process::rss_kib(pid) * 1024
}

/// `total` bytes in 256 KiB chunks of a repeating pattern, made as they are
/// sent (the test holds no more than one chunk either).
fn generated(total: u64) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    const CHUNK: u64 = 256 * 1024;
    let chunk: Vec<u8> = (0..CHUNK).map(|i| (i % 251) as u8).collect();
    futures_util::stream::iter((0..total.div_ceil(CHUNK)).map(move |i| {
        let len = CHUNK.min(total - i * CHUNK) as usize;
        Ok(chunk[..len].to_vec())
    }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_gib_upload_streams_through_in_flat_memory() {
    let data = tempfile::tempdir().unwrap();
    let name = one_gib_upload_in_flat_memory(&data, &[]).await;
    let on_disk = std::fs::metadata(data.path().join("uploads").join(name)).unwrap();
    assert_eq!(on_disk.len(), GIB);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_gib_upload_streams_to_s3_in_flat_memory() {
    let s3 = inlet_testkit::s3::S3Server::start().await;
    let env = s3.uploads_env("inlet-big");
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let data = tempfile::tempdir().unwrap();
    let (name, server) = one_gib_upload_in_flat_memory_on(&data, &env).await;
    let head = inlet_testkit::http::admin_client()
        .head(format!("{}/files/{name}", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["content-length"], GIB.to_string().as_str());
    assert_eq!(
        std::fs::read_dir(data.path()).unwrap().count(),
        0,
        "nothing written to the data folder"
    );
}

const GIB: u64 = 1024 * 1024 * 1024;

async fn one_gib_upload_in_flat_memory(data: &TempDir, extra: &[(&str, &str)]) -> String {
    one_gib_upload_in_flat_memory_on(data, extra).await.0
}

/// Uploads 1 GiB to a service on `data` with `extra` settings, checking
/// that its resident memory grows by less than 64 MiB; gives the stored
/// name and the running service.
async fn one_gib_upload_in_flat_memory_on(
    data: &TempDir,
    extra: &[(&str, &str)],
) -> (String, ServiceProcess) {
    let data_dir = data.path().display().to_string();
    let mut env = vec![
        ("INLET_LISTEN", "127.0.0.1:0"),
        ("INLET_DATA_DIR", data_dir.as_str()),
        ("INLET_LIMITS__MAX_FILE_BYTES", "2147483648"),
        ("INLET_LIMITS__MAX_REQUEST_BYTES", "2147483648"),
        ("INLET_ADMIN_TOKEN", inlet_testkit::access::ADMIN_TOKEN),
    ];
    env.extend_from_slice(extra);
    let server = ServiceProcess::start(BIN, &env).await;
    let client = inlet_testkit::http::client();
    let url = format!("{}/", server.url());
    // Warm up so start-up allocations are in the baseline.
    let warm = Form::new().part("w", Part::bytes(vec![1; 1 << 20]).file_name("warm"));
    let res = client.post(&url).multipart(warm).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let baseline = rss_bytes(server.pid());

    let pid = server.pid();
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let sampler = tokio::spawn(async move {
        let mut peak = 0;
        loop {
            peak = peak.max(rss_bytes(pid));
            tokio::select! {
                _ = &mut stopped => return peak,
                _ = tokio::time::sleep(Duration::from_millis(20)) => {}
            }
        }
    });
    let expected = {
        let mut hasher = Sha256::new();
        let mut stream = std::pin::pin!(generated(GIB));
        while let Some(chunk) = stream.next().await {
            hasher.update(chunk.unwrap());
        }
        format!("{:x}", hasher.finalize())
    };
    let part = Part::stream_with_length(reqwest::Body::wrap_stream(generated(GIB)), GIB)
        .file_name("big.bin");
    let res = client
        .post(&url)
        .header("accept", "application/json")
        .multipart(Form::new().part("userfile1", part))
        .timeout(Duration::from_secs(300))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let answer: serde_json::Value = res.json().await.unwrap();
    stop.send(()).unwrap();
    let peak = sampler.await.unwrap();
    assert_eq!(answer["stored"][0]["size"], GIB);
    assert_eq!(answer["stored"][0]["sha256"], expected);
    let name = answer["stored"][0]["name"].as_str().unwrap().to_owned();
    let growth = peak.saturating_sub(baseline);
    eprintln!("RSS baseline {baseline} B, peak {peak} B, growth {growth} B");
    assert!(growth < 64 * 1024 * 1024, "RSS grew by {growth} bytes");
    (name, server)
}

/// Starts the service in its own mount namespace with a tmpfs of `size`
/// (`1m`) as its data folder, so a full disk is real without touching the
/// machine's disks, and `min_free_bytes` as its floor. Gives the server and
/// its uploads folder as the test sees it (through the namespace).
async fn start_on_tmpfs(size: &str, min_free_bytes: &str) -> (ServiceProcess, String, TempDir) {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().display().to_string();
    let script =
        format!(r#"mount -t tmpfs -o size={size} inlet-tmpfs "$INLET_DATA_DIR" && exec "$0""#);
    let server = ServiceProcess::start_with_args(
        "unshare",
        &[
            "--user",
            "--map-root-user",
            "--mount",
            "sh",
            "-c",
            &script,
            BIN,
        ],
        &[
            ("INLET_LISTEN", "127.0.0.1:0"),
            ("INLET_DATA_DIR", &data_dir),
            ("INLET_DISK__MIN_FREE_BYTES", min_free_bytes),
        ],
    )
    .await;
    let uploads = format!("/proc/{}/root{data_dir}/uploads", server.pid());
    (server, uploads, data)
}

#[tokio::test]
async fn a_full_disk_is_507_and_leaves_no_file_and_no_temp() {
    // A 1 MiB tmpfs and the guard off: this is about what a really full disk does.
    let (server, uploads, _data) = start_on_tmpfs("1m", "0").await;
    let client = inlet_testkit::http::client();
    let res = client
        .put(format!("{}/", server.url()))
        .header("x-field", "f")
        .header("x-filename", "too-big.bin")
        .body(vec![7u8; 3 << 20])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 507);
    assert_eq!(res.text().await.unwrap(), "no space left to store the file");
    let left: Vec<_> = std::fs::read_dir(&uploads)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "{left:?}");
    // Space is free again, so a small file is stored.
    let res = client
        .put(format!("{}/", server.url()))
        .header("x-field", "f")
        .header("x-filename", "small.txt")
        .body("fits")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn under_the_disk_floor_uploads_are_507_before_the_disk_is_full_and_readyz_says_so() {
    // A 4 MiB tmpfs as the data folder and a floor of 2 MiB.
    let (server, uploads, _data) = start_on_tmpfs("4m", "2097152").await;
    let client = inlet_testkit::http::admin_client();
    let put = |name: &'static str, len: usize| {
        client
            .put(format!("{}/", server.url()))
            .header("x-field", "f")
            .header("x-filename", name)
            .body(vec![7u8; len])
            .send()
    };
    // Room above the floor: a 3 MiB file is stored, and leaves about 1 MiB free.
    assert_eq!(put("first.bin", 3 << 20).await.unwrap().status(), 200);
    // Wait (bounded) for /readyz to see the volume under its floor.
    let deadline = tokio::time::Instant::now() + inlet_testkit::WAIT;
    let report = loop {
        let res = client
            .get(format!("{}/readyz", server.url()))
            .send()
            .await
            .unwrap();
        if res.status() == 503 {
            break res.json::<serde_json::Value>().await.unwrap();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "readyz never saw the floor"
        );
        tokio::task::yield_now().await;
    };
    let disk = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "disk-space")
        .unwrap();
    assert_eq!(disk["ok"], false, "{report}");
    // Intake is refused while the disk still has room: nothing half-written.
    let res = put("second.bin", 1 << 19).await.unwrap();
    assert_eq!(res.status(), 507);
    assert!(res.text().await.unwrap().contains("disk is nearly full"));
    let left: Vec<String> = std::fs::read_dir(&uploads)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(
        left.len() == 1 && left[0].ends_with("-first.bin"),
        "{left:?}"
    );
    assert!(server
        .logs()
        .iter()
        .any(|l| l.contains("data volume is nearly full")));
    // Deleting frees the space, and intake comes back.
    let res = client
        .delete(format!("{}/files/{}", server.url(), left[0]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let deadline = tokio::time::Instant::now() + inlet_testkit::WAIT;
    loop {
        let res = put("third.bin", 1024).await.unwrap();
        if res.status() == 200 {
            break;
        }
        assert_eq!(res.status(), 507);
        assert!(
            tokio::time::Instant::now() < deadline,
            "intake never came back"
        );
    }
}

#[tokio::test]
async fn a_stored_file_has_its_span_and_a_log_line_naming_it_and_the_client() {
    let receiver = inlet_testkit::otlp::OtlpReceiver::start().await;
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().display().to_string();
    let endpoint = receiver.grpc_endpoint();
    let mut server = ServiceProcess::start(
        BIN,
        &[
            ("INLET_LISTEN", "127.0.0.1:0"),
            ("INLET_DATA_DIR", &data_dir),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
        ],
    )
    .await;
    let content = b"traced bytes".to_vec();
    let form = Form::new().part("userfile1", Part::bytes(content.clone()).file_name("t.txt"));
    let res = inlet_testkit::http::client()
        .post(format!("{}/", server.url()))
        .header("accept", "application/json")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let answer: serde_json::Value = res.json().await.unwrap();
    let name = answer["stored"][0]["name"].as_str().unwrap().to_owned();

    let line = server
        .wait_for_log(|v| v["message"] == "file stored")
        .await
        .expect("a log line for the stored file");
    assert_eq!(line["fields"]["stored_name"], name.as_str());
    assert_eq!(line["fields"]["client.address"], "127.0.0.1");
    assert!(server.terminate().await.success(), "clean exit on SIGTERM");

    let stored = receiver
        .wait_for_span(inlet_testkit::WAIT, |s| s.name == "uploads.file.stored")
        .await
        .expect("the stored-file span is exported");
    assert_eq!(stored.service_name, "inlet-uploads");
    assert_eq!(stored.attr_str("uploads.file.name"), Some(name.as_str()));
    assert_eq!(
        stored.attr_i64("uploads.file.size"),
        Some(content.len() as i64),
        "{:?}",
        stored.attributes
    );
    let sha = format!("{:x}", Sha256::digest(&content));
    assert_eq!(stored.attr_str("uploads.file.sha256"), Some(sha.as_str()));
    assert!(stored.attr_i64("uploads.file.duration_ms").is_some());
    let request = receiver
        .wait_for_span(Duration::from_secs(1), |s| {
            s.span_id == stored.parent_span_id
        })
        .await
        .expect("the file span's parent is the request span");
    assert_eq!(request.kind, 2, "server span");
    assert_eq!(request.attr_str("http.route"), Some("/"));
    assert_eq!(request.attr_i64("http.response.status_code"), Some(200));
}

#[tokio::test]
async fn a_stored_file_carries_the_trace_id_that_stored_it() {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().display().to_string();
    let mut server = ServiceProcess::start(
        BIN,
        &[
            ("INLET_LISTEN", "127.0.0.1:0"),
            ("INLET_DATA_DIR", &data_dir),
        ],
    )
    .await;
    let caller_trace = "0af7651916cd43dd8448eb211c80319c";
    let res = inlet_testkit::http::client()
        .put(format!("{}/", server.url()))
        .header("x-filename", "traced.txt")
        .header("x-field", "doc")
        .header("accept", "application/json")
        .header(
            "traceparent",
            format!("00-{caller_trace}-b7ad6b7169203331-01"),
        )
        .body("traced bytes")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let answer: serde_json::Value = res.json().await.unwrap();
    let name = answer["stored"][0]["name"].as_str().unwrap().to_owned();
    let meta =
        inlet_testkit::http::get_json_as_admin(&format!("{}/files/{name}/meta", server.url()))
            .await;
    assert_eq!(meta["trace_id"], caller_trace, "{meta}");
    assert_eq!(meta["id"], name.as_str());
    assert_eq!(meta["size"], 12);
    assert_eq!(meta["original_name"], "traced.txt");
    let page = inlet_testkit::http::get_json_as_admin(&format!("{}/files", server.url())).await;
    assert_eq!(page["files"][0], meta, "the listing says the same");
    assert!(server.terminate().await.success());
}
