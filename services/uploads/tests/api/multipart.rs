//! `POST /` with `multipart/form-data`.

use std::time::Duration;

use reqwest::multipart::{Form, Part};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::helpers::{bytes, file_part, spawn_app};

const BOUNDARY: &str = "----inlet-test-boundary";

/// A raw multipart request head for `body_len` bytes.
fn raw_head(body_len: usize) -> String {
    format!(
        "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n\
         Content-Length: {body_len}\r\n\r\n"
    )
}

/// The opening of a file part.
fn raw_file_part_head(field: &str, name: &str) -> String {
    format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
}

#[tokio::test]
async fn two_files_and_a_text_field_are_stored_and_answered_line_by_line() {
    let app = spawn_app(&[]).await;
    let (one, two) = (bytes(70_000), b"second file".to_vec());
    let form = Form::new()
        .text("userinput1", "hello")
        .part("userfile1", file_part("one.bin", one.clone()))
        .part("userfile2", file_part("two.txt", two.clone()));
    let res = app
        .client
        .post(app.url("/"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.text().await.unwrap(),
        "processed \"userinput1\" input.\n\
         one.bin successfully saved!\n\
         two.txt successfully saved!\n\
         All files processed!\n"
    );
    let stored = app.stored();
    assert_eq!(stored.len(), 2, "{stored:?}");
    let find = |suffix: &str| {
        let name = stored.iter().find(|n| n.ends_with(suffix)).unwrap();
        std::fs::read(app.uploads_dir().join(name)).unwrap()
    };
    assert_eq!(find("-one.bin"), one);
    assert_eq!(find("-two.txt"), two);
    assert!(stored.iter().any(|n| n.starts_with("userfile1-")));
}

#[tokio::test]
async fn the_json_answer_names_each_file_with_its_sha256_and_the_fields() {
    let app = spawn_app(&[]).await;
    let file = bytes(12_345);
    let form = Form::new()
        .text("note", "a note")
        .part("userfile1", file_part("data.bin", file.clone()));
    let res = app.post_form(form).await;
    assert_eq!(res.status(), 200);
    let answer: serde_json::Value = res.json().await.unwrap();
    let stored = &answer["stored"][0];
    assert_eq!(stored["original_name"], "data.bin");
    assert_eq!(stored["field"], "userfile1");
    assert_eq!(stored["size"], 12_345);
    assert_eq!(stored["sha256"], format!("{:x}", Sha256::digest(&file)));
    assert_eq!(
        answer["fields"],
        serde_json::json!([{ "name": "note", "value": "a note" }])
    );
    assert_eq!(app.stored(), [stored["name"].as_str().unwrap()]);
    assert_eq!(
        app.metric("inlet_uploads_files_stored_total{method=\"multipart\"}")
            .await,
        1.0
    );
    let received = app.metric("inlet_uploads_received_bytes_total").await;
    assert!(received > 12_345.0 && received < 13_000.0, "{received}");
}

#[tokio::test]
async fn an_empty_file_input_is_skipped() {
    let app = spawn_app(&[]).await;
    // What a browser sends for a file input left empty.
    let empty = Part::bytes(Vec::new())
        .file_name("")
        .mime_str("application/octet-stream")
        .unwrap();
    let form = Form::new()
        .text("userinput1", "x")
        .part("userfile1", file_part("kept.txt", b"kept".to_vec()))
        .part("userfile2", empty);
    let res = app
        .client
        .post(app.url("/"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.text().await.unwrap(),
        "processed \"userinput1\" input.\nkept.txt successfully saved!\nAll files processed!\n"
    );
    assert_eq!(app.stored().len(), 1);
}

#[tokio::test]
async fn other_content_types_are_415_and_other_methods_405() {
    let app = spawn_app(&[]).await;
    let res = app
        .client
        .post(app.url("/"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("a=1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);
    assert!(res.text().await.unwrap().contains("multipart/form-data"));
    let res = app.client.delete(app.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers()["allow"], "GET, HEAD, POST, PUT");
    let res = app
        .client
        .post(app.url("/"))
        .header("content-type", "multipart/form-data")
        .body("--x--")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400, "a multipart type without a boundary");
    assert!(app.stored().is_empty());
}

/// Posts `form` and checks the refusal: status, code, the limit's key in
/// the message, and nothing kept.
async fn assert_refused(extra: &[(&str, &str)], form: Form, status: u16, code: &str, key: &str) {
    let app = spawn_app(extra).await;
    let res = app.post_form(form).await;
    assert_eq!(res.status(), status, "{code}");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], code);
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains(key), "{message}");
    app.wait_until_no_incoming().await;
    assert!(app.stored().is_empty(), "{:?}", app.stored());
    let refused = format!("inlet_uploads_requests_refused_total{{reason=\"{code}\"}}");
    assert_eq!(app.metric(&refused).await, 1.0);
}

#[tokio::test]
async fn a_file_over_max_file_bytes_is_413_and_the_whole_request_keeps_nothing() {
    let limit = [("INLET_LIMITS__MAX_FILE_BYTES", "1000")];
    let app = spawn_app(&limit).await;
    let exact = Form::new().part("f", file_part("exact", bytes(1000)));
    assert_eq!(app.post_form(exact).await.status(), 200);
    app.stop().await;
    let over = Form::new()
        .part("f", file_part("first-fine", bytes(10)))
        .part("g", file_part("over", bytes(1001)));
    assert_refused(&limit, over, 413, "file_too_large", "limits.max_file_bytes").await;
}

#[tokio::test]
async fn every_other_limit_is_413_naming_it() {
    let many = (0..4).fold(Form::new(), |form, i| form.text(format!("f{i}"), "v"));
    assert_refused(
        &[("INLET_LIMITS__MAX_PARTS", "3")],
        many,
        413,
        "too_many_parts",
        "limits.max_parts",
    )
    .await;
    let long_field = Form::new().text("note", "x".repeat(101));
    assert_refused(
        &[("INLET_LIMITS__MAX_FIELD_BYTES", "100")],
        long_field,
        413,
        "field_too_large",
        "limits.max_field_bytes",
    )
    .await;
    let long_name = Form::new().part("f", file_part(&"n".repeat(600), b"x".to_vec()));
    assert_refused(
        &[("INLET_LIMITS__MAX_PART_HEADER_BYTES", "512")],
        long_name,
        413,
        "part_headers_too_large",
        "limits.max_part_header_bytes",
    )
    .await;
    let big = Form::new()
        .part("a", file_part("a", bytes(600)))
        .part("b", file_part("b", bytes(600)));
    assert_refused(
        &[("INLET_LIMITS__MAX_REQUEST_BYTES", "1000")],
        big,
        413,
        "payload_too_large",
        "limits.max_request_bytes",
    )
    .await;
}

#[tokio::test]
async fn a_body_without_its_closing_boundary_is_400_and_keeps_nothing() {
    let app = spawn_app(&[]).await;
    let body = format!("{}whole file bytes\r\n", raw_file_part_head("f", "a.txt"));
    let request = format!("{}{body}", raw_head(body.len()));
    let reply =
        inlet_testkit::raw::send(app.port, request.as_bytes(), false, Duration::from_secs(10))
            .await;
    assert_eq!(reply.status(), Some(400), "{}", reply.text);
    assert!(reply.text.contains("closing boundary"), "{}", reply.text);
    app.wait_until_no_incoming().await;
    assert!(app.stored().is_empty(), "{:?}", app.stored());
}

#[tokio::test]
async fn a_connection_cut_halfway_through_a_file_leaves_no_file_and_no_temp() {
    let app = spawn_app(&[]).await;
    let content = bytes(10 * 1024 * 1024);
    let mut body = raw_file_part_head("f", "cut.bin").into_bytes();
    body.extend_from_slice(&content);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .unwrap();
    stream
        .write_all(raw_head(body.len()).as_bytes())
        .await
        .unwrap();
    stream.write_all(&body[..body.len() / 2]).await.unwrap();
    // The server has started the file once a temporary file is in flight.
    let deadline = tokio::time::Instant::now() + inlet_testkit::WAIT;
    while app.metric("inlet_uploads_incoming_files").await < 1.0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the upload never started"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(stream);
    app.wait_until_no_incoming().await;
    assert!(app.stored().is_empty(), "{:?}", app.stored());
}

#[tokio::test]
async fn a_stalled_body_is_408_naming_the_idle_timeout_and_keeps_nothing() {
    let app = spawn_app(&[("INLET_HTTP__BODY_IDLE_TIMEOUT_MS", "300")]).await;
    let head = raw_file_part_head("f", "slow.bin");
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .unwrap();
    let request = format!("{}{head}first bytes", raw_head(head.len() + 1000));
    stream.write_all(request.as_bytes()).await.unwrap();
    // Nothing more is sent: the server must give up on its own.
    let reply = inlet_testkit::raw::read_reply(&mut stream, Duration::from_secs(10)).await;
    assert_eq!(reply.status(), Some(408), "{}", reply.text);
    assert!(
        reply.text.contains("http.body_idle_timeout_ms"),
        "{}",
        reply.text
    );
    assert!(reply.closed, "an early answer closes the connection");
    app.wait_until_no_incoming().await;
    assert!(app.stored().is_empty());
}

#[tokio::test]
async fn hostile_file_names_stay_inside_the_uploads_folder() {
    let app = spawn_app(&[]).await;
    let long = "x".repeat(1000);
    let hostile = [
        "../../etc/passwd",
        "..\\..\\x",
        "a/b",
        "/abs",
        ".",
        "..",
        long.as_str(),
        "invoice\u{202E}fdp.exe",
        "ملف 😀.png",
    ];
    for name in hostile {
        // (reqwest would send a field name with `/` as `name*`, which
        // RFC 7578 forbids; PUT's tests cover hostile field names.)
        let form = Form::new().part("f", file_part(name, b"x".to_vec()));
        let res = app.post_form(form).await;
        assert_eq!(res.status(), 200, "{name:?}: {}", res.text().await.unwrap());
    }
    // NUL and CR/LF cannot be written in a quoted filename; RFC 5987's
    // filename* carries them percent-encoded.
    for encoded in ["nul%00byte", "line%0D%0Abreak", "..%2F..%2Fescape"] {
        let mut body = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"f\"; filename*=UTF-8''{encoded}\r\n\r\nx\r\n--{BOUNDARY}--\r\n"
        );
        body.insert_str(0, &raw_head(body.len()));
        let reply =
            inlet_testkit::raw::send(app.port, body.as_bytes(), false, Duration::from_secs(10))
                .await;
        assert_eq!(reply.status(), Some(200), "{encoded}: {}", reply.text);
    }
    assert_eq!(app.assert_all_inside_uploads(), hostile.len() + 3);
}

#[tokio::test]
async fn fifty_concurrent_uploads_of_one_name_keep_fifty_files() {
    let app = spawn_app(&[]).await;
    let uploads = (0..50u8).map(|i| {
        let app = &app;
        async move {
            let content = vec![i; 8192];
            let form = Form::new().part("userfile1", file_part("same.bin", content.clone()));
            let res = app.post_form(form).await;
            assert_eq!(res.status(), 200);
            let answer: serde_json::Value = res.json().await.unwrap();
            let stored = &answer["stored"][0];
            assert_eq!(stored["sha256"], format!("{:x}", Sha256::digest(&content)));
            (content, stored["name"].as_str().unwrap().to_owned())
        }
    });
    let results = futures_util::future::join_all(uploads).await;
    assert_eq!(app.stored().len(), 50);
    for (content, name) in results {
        let kept = std::fs::read(app.uploads_dir().join(&name)).unwrap();
        assert_eq!(Sha256::digest(&kept), Sha256::digest(&content), "{name}");
    }
}

#[tokio::test]
async fn a_body_slower_than_the_whole_body_timeout_is_408_naming_it() {
    let app = spawn_app(&[
        ("INLET_HTTP__BODY_TIMEOUT_MS", "500"),
        ("INLET_HTTP__BODY_IDLE_TIMEOUT_MS", "10000"),
    ])
    .await;
    let head = raw_file_part_head("f", "trickled.bin");
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .unwrap();
    let (mut read, mut write) = stream.into_split();
    write
        .write_all(format!("{}{head}", raw_head(head.len() + 10_000)).as_bytes())
        .await
        .unwrap();
    // A byte every 20 ms never stalls, but cannot finish in 500 ms.
    let trickler =
        inlet_testkit::raw::trickle(write, vec![b'x'; 10_000], Duration::from_millis(20));
    let reply = inlet_testkit::raw::read_reply(&mut read, Duration::from_secs(10)).await;
    trickler.abort();
    assert_eq!(reply.status(), Some(408), "{}", reply.text);
    assert!(
        reply.text.contains("http.body_timeout_ms"),
        "{}",
        reply.text
    );
    app.wait_until_no_incoming().await;
    assert!(app.stored().is_empty());
}
