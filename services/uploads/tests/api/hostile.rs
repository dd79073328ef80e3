//! Bodies built to make the multipart guard and the parser disagree on
//! where parts begin and end: each is refused, and nothing is stored.

use crate::helpers::{spawn_app, TestApp};

const B: &str = "hostileBoundary";

/// Sends `body` as `multipart/form-data` with boundary [`B`] (or the
/// Content-Type given) and gives the status and answer.
async fn post(app: &TestApp, content_type: Option<&str>, body: Vec<u8>) -> (u16, String) {
    let content_type = content_type
        .map(str::to_owned)
        .unwrap_or_else(|| format!("multipart/form-data; boundary={B}"));
    let res = app
        .client
        .post(app.url("/"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

fn field(name: &str, value: &str) -> String {
    format!("--{B}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
}

fn file_head(name: &str) -> String {
    format!(
        "--{B}\r\nContent-Disposition: form-data; name=\"f\"; filename=\"{name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
}

/// Checks the body is refused with 400, the answer says `explained`, and
/// nothing was kept.
async fn assert_refused_and_nothing_stored(app: &TestApp, body: Vec<u8>, explained: &str) {
    let (status, text) = post(app, None, body).await;
    assert_eq!(status, 400, "{explained}: {text}");
    assert!(text.contains(explained), "{text}");
    app.wait_until_no_incoming().await;
    assert_eq!(app.stored(), Vec::<String>::new(), "{explained}");
}

#[tokio::test]
async fn a_part_with_its_own_content_length_cannot_hide_parts_or_headers_from_the_limits() {
    let app = spawn_app(&[("INLET_LIMITS__MAX_PARTS", "5")]).await;
    // The guard sees a closing delimiter inside the first part; the parser,
    // reading 16 bytes by the part's Content-Length, read on past it.
    let mut body = format!(
        "--{B}\r\nContent-Disposition: form-data; name=\"a\"\r\nContent-Length: 16\r\n\r\n\
         \r\n--{B}--\r\n\r\n"
    );
    for i in 0..50 {
        body.push_str(&field(&format!("f{i}"), "x"));
    }
    body.push_str(&format!(
        "--{B}\r\nContent-Disposition: form-data; name=\"big\"\r\nX-Long: {}\r\n\r\nv\r\n",
        "h".repeat(64 * 1024)
    ));
    body.push_str(&format!("--{B}--\r\n"));
    assert_refused_and_nothing_stored(&app, body.into_bytes(), "Content-Length of its own").await;
}

#[tokio::test]
async fn bare_cr_delimiters_cannot_smuggle_parts_past_max_parts() {
    let app = spawn_app(&[("INLET_LIMITS__MAX_PARTS", "5")]).await;
    let mut body = field("first", "1");
    for i in 0..50 {
        // `\r--B` (no LF): the parser ended the part here, the guard did not.
        body.push_str(&format!(
            "x\r--{B}\r\nContent-Disposition: form-data; name=\"g{i}\"\r\n\r\n"
        ));
    }
    body.push_str(&format!("y\r\n--{B}--\r\n"));
    assert_refused_and_nothing_stored(&app, body.into_bytes(), "boundary appears inside a part")
        .await;
}

#[tokio::test]
async fn a_file_is_stored_whole_or_refused_never_cut_at_a_boundary_lookalike() {
    let app = spawn_app(&[]).await;
    // Was: 200, and `abc` (3 of 15 bytes) stored.
    let mut body = file_head("cut.bin");
    body.push_str(&format!("abc\r--{B}X"));
    body.push_str(&format!("\r\n--{B}--\r\n"));
    assert_refused_and_nothing_stored(&app, body.into_bytes(), "boundary appears inside a part")
        .await;

    // A file that holds CRs, dashes and most of the boundary is stored exactly.
    let content = format!("a\r-{B}\r\n-{B}\n--{}\r\r\n", &B[..B.len() - 1]);
    let mut body = file_head("whole.bin");
    body.push_str(&content);
    body.push_str(&format!("\r\n--{B}--\r\n"));
    let (status, text) = post(&app, None, body.into_bytes()).await;
    assert_eq!(status, 200, "{text}");
    app.assert_only_file("f-", "-whole.bin", content.as_bytes());
}

#[tokio::test]
async fn a_boundary_given_twice_is_refused() {
    let app = spawn_app(&[]).await;
    let body = format!("{}--{B}--\r\n", field("a", "1"));
    for content_type in [
        format!("multipart/form-data; boundary={B}; boundary=other"),
        format!("multipart/form-data; boundary=other; BOUNDARY={B}"),
    ] {
        let (status, text) = post(&app, Some(&content_type), body.clone().into_bytes()).await;
        assert_eq!(status, 400, "{content_type}: {text}");
        assert!(text.contains("more than once"), "{text}");
    }
}

#[tokio::test]
async fn a_put_declaring_more_than_max_file_bytes_gets_413_never_100() {
    let app = spawn_app(&[
        ("INLET_LIMITS__MAX_FILE_BYTES", "1000"),
        ("INLET_LIMITS__MAX_REQUEST_BYTES", "100000"),
    ])
    .await;
    let head = |method: &str, length: usize| {
        format!(
            "{method} / HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\nx-field: f\r\n\
             x-filename: a.bin\r\nContent-Type: multipart/form-data; boundary={B}\r\n\
             Content-Length: {length}\r\n\r\n"
        )
    };
    let wait = std::time::Duration::from_secs(5);
    // Between the file cap and the request cap: a PUT is one file.
    let reply = inlet_testkit::raw::send(app.port, head("PUT", 5000).as_bytes(), false, wait).await;
    assert_eq!(reply.status(), Some(413), "{reply:?}");
    assert!(!reply.text.contains("100 Continue"), "{reply:?}");
    assert!(reply.closed, "{reply:?}");
    // A multipart POST of the same length may go on.
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut stream, head("POST", 5000).as_bytes())
        .await
        .unwrap();
    let mut continued = [0u8; 25];
    tokio::time::timeout(
        wait,
        tokio::io::AsyncReadExt::read_exact(&mut stream, &mut continued),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(&continued, b"HTTP/1.1 100 Continue\r\n\r\n");
}
