//! `PUT /`: the raw body is the file.

use futures_util::stream;
use sha2::{Digest, Sha256};

use crate::helpers::spawn_app;

fn bytes(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

#[tokio::test]
async fn a_put_file_is_stored_byte_exact_with_its_sha256() {
    let app = spawn_app(&[]).await;
    let body = bytes(300_000);
    let res = app.put("userfile1", "report.pdf", body.clone()).await;
    assert_eq!(res.status(), 200);
    let answer: serde_json::Value = res.json().await.unwrap();
    let stored = &answer["stored"][0];
    let name = stored["name"].as_str().unwrap();
    assert!(
        name.starts_with("userfile1-") && name.ends_with("-report.pdf"),
        "{name}"
    );
    assert_eq!(stored["original_name"], "report.pdf");
    assert_eq!(stored["field"], "userfile1");
    assert_eq!(stored["size"], 300_000);
    assert_eq!(stored["sha256"], format!("{:x}", Sha256::digest(&body)));
    assert_eq!(app.stored(), [name], "only the file, no temporary left");
    assert_eq!(std::fs::read(app.uploads_dir().join(name)).unwrap(), body);
    app.stop().await;
}

#[tokio::test]
async fn the_seed_answer_is_plain_text() {
    let app = spawn_app(&[]).await;
    let res = app
        .client
        .put(app.url("/"))
        .header("x-field", "userfile1")
        .header("x-filename", "notes.txt")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "notes.txt successfully saved!\n");
}

#[tokio::test]
async fn missing_name_or_field_is_400_and_nothing_is_kept() {
    let app = spawn_app(&[]).await;
    for (header, value) in [("x-field", "f"), ("x-filename", "n")] {
        let res = app
            .client
            .put(app.url("/"))
            .header(header, value)
            .header("accept", "application/json")
            .body("data")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400);
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "missing_header");
    }
    assert!(app.stored().is_empty());
}

#[tokio::test]
async fn the_cap_is_exact_and_nothing_over_it_is_kept() {
    let app = spawn_app(&[("INLET_LIMITS__MAX_FILE_BYTES", "1000")]).await;
    assert_eq!(app.put("f", "exact", bytes(1000)).await.status(), 200);
    assert_eq!(app.stored().len(), 1);
    assert_eq!(app.put("f", "over", bytes(1001)).await.status(), 413);
    // Chunked, so only counting the bytes can tell.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = (0..5).map(|_| Ok(bytes(300))).collect();
    let res = app
        .put(
            "f",
            "streamed",
            reqwest::Body::wrap_stream(stream::iter(chunks)),
        )
        .await;
    assert_eq!(res.status(), 413);
    assert_eq!(
        app.stored().len(),
        1,
        "nothing kept from the refused uploads"
    );
}

#[tokio::test]
async fn hostile_names_never_leave_the_uploads_folder() {
    let app = spawn_app(&[]).await;
    let hostile = [
        "../../etc/passwd",
        "..\\..\\x",
        "a/b",
        "/abs",
        ".",
        "..",
        "",
        "invoice\u{202E}fdp.exe",
        "ملف 😀.png",
    ];
    for name in hostile {
        let res = app.put("../field", name, "x").await;
        assert_eq!(res.status(), 200, "{name:?}");
    }
    assert_eq!(app.assert_all_inside_uploads(), hostile.len());
}

#[tokio::test]
async fn concurrent_puts_of_one_name_each_keep_their_file() {
    let app = spawn_app(&[]).await;
    let puts = (0..20u8).map(|i| {
        let app = &app;
        async move {
            let res = app.put("f", "same.bin", vec![i; 4096]).await;
            assert_eq!(res.status(), 200);
            let answer: serde_json::Value = res.json().await.unwrap();
            (i, answer["stored"][0]["name"].as_str().unwrap().to_owned())
        }
    });
    let results = futures_util::future::join_all(puts).await;
    let stored = app.stored();
    assert_eq!(stored.len(), 20, "{stored:?}");
    for (i, name) in results {
        assert_eq!(
            std::fs::read(app.uploads_dir().join(name)).unwrap(),
            vec![i; 4096]
        );
    }
}

#[tokio::test]
async fn a_body_longer_than_its_content_length_is_cut_at_the_declared_length() {
    let app = spawn_app(&[]).await;
    let mut request =
        b"PUT / HTTP/1.1\r\nHost: localhost\r\nx-field: f\r\nx-filename: lie.bin\r\nContent-Length: 100\r\n\r\n"
            .to_vec();
    request.extend_from_slice(&bytes(100_000));
    let reply = inlet_testkit::raw::send(
        app.port,
        &request,
        false,
        std::time::Duration::from_secs(10),
    )
    .await;
    assert_eq!(reply.status(), Some(200), "{}", reply.text);
    assert!(reply.text.contains("lie.bin successfully saved!"));
    // The extra bytes are no request: the server says so and closes.
    assert!(reply.text.contains("HTTP/1.1 400"), "{}", reply.text);
    assert!(reply.closed);
    let stored = app.stored();
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(
        std::fs::read(app.uploads_dir().join(&stored[0])).unwrap(),
        bytes(100)
    );
}

#[tokio::test]
async fn with_interval_sync_files_are_answered_at_once_and_flushed_in_the_background() {
    let app = spawn_app(&[
        ("INLET_STORE__SYNC", "interval"),
        ("INLET_STORE__SYNC_INTERVAL_MS", "20"),
    ])
    .await;
    let body = bytes(70_000);
    let res = app.put("userfile1", "later.bin", body.clone()).await;
    assert_eq!(res.status(), 200);
    let answer: serde_json::Value = res.json().await.unwrap();
    let name = answer["stored"][0]["name"].as_str().unwrap().to_owned();
    assert_eq!(std::fs::read(app.uploads_dir().join(&name)).unwrap(), body);
    let flushes = "inlet_uploads_interval_flushes_total";
    let deadline = tokio::time::Instant::now() + inlet_testkit::WAIT;
    while app.metric(flushes).await < 1.0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no background flush"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // A small file (kept in memory, sealed in one go) takes the same way.
    let res = app.put("userfile1", "small.txt", b"tiny".to_vec()).await;
    assert_eq!(res.status(), 200);
    app.stop().await;
}
