//! The body cap (declared and actual), field cap, and lying or missing lengths.

use futures_util::stream;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{scrape_at, spawn_app, value, DEFAULT_CAP};
use inlet_testkit::raw::read_reply;
use inlet_testkit::WAIT;

/// A urlencoded body of exactly `len` bytes.
fn body_of(len: usize) -> String {
    let mut body = String::from("f=");
    body.push_str(&"x".repeat(len - 2));
    body
}

#[tokio::test]
async fn exactly_the_cap_is_accepted_one_more_byte_is_413() {
    let app = spawn_app(&[]).await;
    let res = app
        .post("application/x-www-form-urlencoded", body_of(DEFAULT_CAP))
        .await;
    assert_eq!(res.status(), 200);
    let res = app
        .post(
            "application/x-www-form-urlencoded",
            body_of(DEFAULT_CAP + 1),
        )
        .await;
    assert_eq!(res.status(), 413);
    assert_eq!(
        res.text().await.unwrap(),
        "body larger than the 2097152-byte limit"
    );
    assert_eq!(app.stored().len(), 1);
}

#[tokio::test]
async fn the_cap_is_configurable() {
    let app = spawn_app(&[("INLET_LIMITS__MAX_BODY_BYTES", "64")]).await;
    assert_eq!(
        app.post("application/json", format!("\"{}\"", "a".repeat(62)))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.post("application/json", format!("\"{}\"", "a".repeat(63)))
            .await
            .status(),
        413
    );
}

#[tokio::test]
async fn declared_length_over_the_cap_is_refused_before_the_body() {
    let app = spawn_app(&[]).await;
    // Only the head is sent: a 413 can only come from the declared length.
    let head = format!(
        "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        DEFAULT_CAP + 1
    );
    let reply = app.raw(head.as_bytes(), false, WAIT).await;
    assert_eq!(reply.status(), Some(413), "{reply:?}");
    assert!(reply.closed);
    assert!(app.stored().is_empty());
}

#[tokio::test]
async fn chunked_body_over_the_cap_is_cut_and_nothing_stored() {
    let app = spawn_app(&[]).await;
    let mut stream = TcpStream::connect(("127.0.0.1", app.port)).await.unwrap();
    stream
        .write_all(b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n")
        .await
        .unwrap();
    let chunk = vec![b'a'; 64 * 1024];
    let mut sent = 0usize;
    // 3 MiB in 64 KiB chunks; the server may close before we finish.
    while sent < 3 * 1024 * 1024 {
        let mut frame = format!("{:x}\r\n", chunk.len()).into_bytes();
        frame.extend_from_slice(&chunk);
        frame.extend_from_slice(b"\r\n");
        if stream.write_all(&frame).await.is_err() {
            break;
        }
        sent += chunk.len();
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let reply = read_reply(&mut stream, WAIT).await;
    assert_eq!(reply.status(), Some(413), "{reply:?}");
    assert!(app.stored().is_empty());
    app.assert_still_serving().await;
}

#[tokio::test]
async fn chunked_body_within_the_cap_is_accepted() {
    let app = spawn_app(&[]).await;
    let parts: Vec<Result<Vec<u8>, std::io::Error>> =
        vec![Ok(b"a=1&".to_vec()), Ok(b"b=".to_vec()), Ok(b"2".to_vec())];
    let res = app
        .client
        .post(app.url("/"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(reqwest::Body::wrap_stream(stream::iter(parts)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.text().await.unwrap(),
        r#"You Posted: {"a":"1","b":"2"}"#
    );
}

#[tokio::test]
async fn body_shorter_than_declared_then_close_stores_nothing() {
    let app = spawn_app(&[]).await;
    let request = b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\na=12345678";
    let reply = app.raw(request, true, WAIT).await;
    assert!(reply.closed, "connection is closed: {reply:?}");
    assert!(
        matches!(reply.status(), None | Some(400)),
        "400 or no answer, got {reply:?}"
    );
    assert!(app.stored().is_empty());
    app.assert_still_serving().await;
}

#[tokio::test]
async fn missing_length_is_411() {
    let app = spawn_app(&[]).await;
    let request = b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n\r\n";
    let reply = app.raw(request, false, WAIT).await;
    assert_eq!(reply.status(), Some(411), "{reply:?}");
}

#[tokio::test]
async fn malformed_content_length_is_400() {
    let app = spawn_app(&[]).await;
    let request = b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ten\r\n\r\n";
    let reply = app.raw(request, false, WAIT).await;
    assert_eq!(reply.status(), Some(400), "{reply:?}");
    assert!(app.stored().is_empty());
}

#[tokio::test]
async fn too_many_fields_is_413() {
    let app = spawn_app(&[("INLET_LIMITS__MAX_FIELDS", "3")]).await;
    assert_eq!(
        app.post("application/x-www-form-urlencoded", "a=1&b=2&c=3")
            .await
            .status(),
        200
    );
    let res = app
        .post("application/x-www-form-urlencoded", "a=1&b=2&c=3&d=4")
        .await;
    assert_eq!(res.status(), 413);
    assert_eq!(res.text().await.unwrap(), "more than 3 fields");
    assert_eq!(app.stored().len(), 1);
}

#[tokio::test]
async fn default_field_cap_is_1000() {
    let app = spawn_app(&[]).await;
    let body = |n: usize| {
        (0..n)
            .map(|i| format!("k{i}=v"))
            .collect::<Vec<_>>()
            .join("&")
    };
    assert_eq!(
        app.post("application/x-www-form-urlencoded", body(1000))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.post("application/x-www-form-urlencoded", body(1001))
            .await
            .status(),
        413
    );
}

/// A head that asks `Expect: 100-continue` for a body of `length` bytes.
fn expecting(length: usize) -> String {
    format!(
        "POST / HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {length}\r\n\r\n"
    )
}

#[tokio::test]
async fn expect_continue_over_the_cap_gets_413_never_100() {
    let app = spawn_app(&[]).await;
    let reply = app
        .raw(expecting(DEFAULT_CAP + 1).as_bytes(), false, WAIT)
        .await;
    assert_eq!(reply.status(), Some(413), "{reply:?}");
    assert!(!reply.text.contains("100 Continue"), "{reply:?}");
    assert!(reply.text.contains("2097152-byte limit"), "{reply:?}");
    assert!(reply.closed, "{reply:?}");
    assert!(app.stored().is_empty());
}

#[tokio::test]
async fn expect_continue_within_the_cap_gets_100_then_the_answer() {
    let app = spawn_app(&[("INLET_LIMITS__MAX_BODY_BYTES", "16")]).await;
    let mut stream = TcpStream::connect(("127.0.0.1", app.port)).await.unwrap();
    stream.write_all(expecting(16).as_bytes()).await.unwrap();
    let mut continued = [0u8; 25];
    tokio::time::timeout(WAIT, stream.read_exact(&mut continued))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&continued, b"HTTP/1.1 100 Continue\r\n\r\n");
    stream.write_all(b"userinput1=abcde").await.unwrap();
    let reply = read_reply(&mut stream, Duration::from_secs(1)).await;
    assert_eq!(reply.status(), Some(200), "{reply:?}");
    assert_eq!(app.stored().len(), 1);
}

#[tokio::test]
async fn expect_continue_over_the_cap_answers_json_when_asked() {
    let app = spawn_app(&[]).await;
    let head = expecting(DEFAULT_CAP + 1).replace("Expect:", "Accept: application/json\r\nExpect:");
    let reply = app.raw(head.as_bytes(), false, WAIT).await;
    assert_eq!(reply.status(), Some(413), "{reply:?}");
    assert!(
        reply.text.contains(r#""code":"payload_too_large""#),
        "{reply:?}"
    );
}

/// Posts JSON `body` and gives the status and the error message.
async fn json_refusal(app: &crate::helpers::TestApp, body: String) -> (u16, String) {
    let res = app.post("application/json", body).await;
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, text)
}

#[tokio::test]
async fn json_nesting_is_capped_and_the_cap_is_configurable() {
    let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    let app = spawn_app(&[]).await;
    // 10,000 open brackets: refused at the cap, without walking the rest.
    let (status, text) = json_refusal(&app, "[".repeat(10_000)).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("nested deeper than 64 levels"), "{text}");
    assert_eq!(app.post("application/json", nested(64)).await.status(), 200);
    assert_eq!(json_refusal(&app, nested(65)).await.0, 400);
    assert_eq!(app.stored().len(), 1, "only the one within the cap is kept");

    let app = spawn_app(&[("INLET_LIMITS__MAX_JSON_DEPTH", "3")]).await;
    let deep = r#"{"a":{"b":{"c":1}}}"#;
    assert_eq!(app.post("application/json", deep).await.status(), 200);
    let (status, text) = json_refusal(&app, r#"{"a":{"b":{"c":[1]}}}"#.to_owned()).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("nested deeper than 3 levels"), "{text}");
}

#[tokio::test]
async fn json_is_checked_by_one_rule_at_the_top_and_inside() {
    let app = spawn_app(&[]).await;
    for body in [
        "1e999999",
        "[1e999999]",
        r#"{"a":[{"b":1e999999}]}"#,
        r#""\ud800x""#,
        r#"["\ud800x"]"#,
        r#"{"\ud800x":1}"#,
        r#"{"a":{"b":"\udc00"}}"#,
    ] {
        let (status, text) = json_refusal(&app, body.to_owned()).await;
        assert_eq!(status, 400, "{body}: {text}");
        assert!(text.contains("invalid JSON"), "{body}: {text}");
    }
    assert!(app.stored().is_empty());
    // What the rule allows passes wherever it is.
    for body in [r#"{"\ud83e\udd80":["\ud83e\udd80", 1e300, -0.0]}"#, "1e300"] {
        assert_eq!(
            app.post("application/json", body).await.status(),
            200,
            "{body}"
        );
    }
    assert_eq!(app.stored().len(), 2);
}

/// The head of a JSON post declaring `len` bytes of body.
fn post_head(len: usize) -> String {
    format!(
        "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {len}\r\n\r\n"
    )
}

/// Waits until `/metrics` shows `bytes` of the in-flight budget reserved.
async fn wait_for_reserved(app: &crate::helpers::TestApp, bytes: usize) {
    let base = app.url("");
    tokio::time::timeout(WAIT, async {
        loop {
            let scrape = scrape_at(&base).await;
            if value(&scrape, "inlet_forms_inflight_body_bytes", &[]) == bytes as f64 {
                return;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("never saw {bytes} bytes reserved"));
}

#[tokio::test]
async fn bodies_past_the_inflight_budget_get_503_and_the_service_keeps_answering() {
    let app = spawn_app(&[("INLET_LIMITS__MAX_INFLIGHT_BODY_BYTES", "4194304")]).await;
    // Two slow 2 MiB posts take the whole budget: their heads and a byte of body.
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = TcpStream::connect(("127.0.0.1", app.port)).await.unwrap();
        stream
            .write_all(post_head(DEFAULT_CAP).as_bytes())
            .await
            .unwrap();
        stream.write_all(b"\"").await.unwrap();
        held.push(stream);
    }
    wait_for_reserved(&app, 2 * DEFAULT_CAP).await;

    // A third body is refused at once, before it is read, and its connection closed.
    let mut third = TcpStream::connect(("127.0.0.1", app.port)).await.unwrap();
    third.write_all(post_head(100).as_bytes()).await.unwrap();
    let reply = read_reply(&mut third, WAIT).await;
    assert_eq!(reply.status(), Some(503), "{}", reply.text);
    assert!(
        reply.text.to_lowercase().contains("retry-after: 1"),
        "{}",
        reply.text
    );
    assert!(reply.text.contains("try again shortly"), "{}", reply.text);
    assert!(reply.closed, "an early answer closes the connection");

    // Everything that reads no body still answers.
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let page = app
        .client
        .get(app.url("/submissions"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);

    // One held post finishes: 200, and its room comes back.
    let mut first = held.remove(0);
    let rest = format!("{}\"", "x".repeat(DEFAULT_CAP - 2));
    first.write_all(rest.as_bytes()).await.unwrap();
    let mut answer = [0u8; 12];
    first.read_exact(&mut answer).await.unwrap();
    assert_eq!(&answer, b"HTTP/1.1 200");
    wait_for_reserved(&app, DEFAULT_CAP).await;
    let res = app.post("application/json", r#"{"after":true}"#).await;
    assert_eq!(res.status(), 200);
    assert_eq!(app.stored().len(), 2);
    let scrape = scrape_at(&app.url("")).await;
    let refused = "inlet_forms_submissions_refused_total";
    assert_eq!(value(&scrape, refused, &[("reason", "unavailable")]), 1.0);
}

#[tokio::test]
async fn an_inflight_budget_smaller_than_one_body_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let pairs = vec![
        (
            "INLET_DATA_DIR".to_string(),
            dir.path().display().to_string(),
        ),
        (
            "INLET_LIMITS__MAX_INFLIGHT_BODY_BYTES".to_string(),
            "1024".to_string(),
        ),
    ];
    let err = inlet_common::config::load::<inlet_forms::config::FormsConfig>(
        &inlet_common::config::ConfigSource::from_pairs(pairs),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("limits.max_inflight_body_bytes"),
        "{err}"
    );
}

#[tokio::test]
async fn a_chunked_body_grows_its_room_and_is_cut_off_when_the_budget_runs_out() {
    let app = spawn_app(&[("INLET_LIMITS__MAX_INFLIGHT_BODY_BYTES", "2097152")]).await;
    // A held post declares 1 MiB: half the budget.
    let mut held = TcpStream::connect(("127.0.0.1", app.port)).await.unwrap();
    held.write_all(post_head(1024 * 1024).as_bytes())
        .await
        .unwrap();
    wait_for_reserved(&app, 1024 * 1024).await;

    // A chunked post fits while it stays under the other half…
    let mut chunked = TcpStream::connect(("127.0.0.1", app.port)).await.unwrap();
    let head = "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    chunked.write_all(head.as_bytes()).await.unwrap();
    let piece = |n: usize| format!("{n:x}\r\n{}\r\n", " ".repeat(n));
    chunked
        .write_all(piece(512 * 1024).as_bytes())
        .await
        .unwrap();
    wait_for_reserved(&app, 1024 * 1024 + 512 * 1024).await;
    // …and is answered 503 and closed when it grows past it.
    chunked
        .write_all(piece(600 * 1024).as_bytes())
        .await
        .unwrap();
    let reply = read_reply(&mut chunked, WAIT).await;
    assert_eq!(reply.status(), Some(503), "{}", reply.text);
    assert!(reply.closed);
    wait_for_reserved(&app, 1024 * 1024).await;
    drop(held);
    assert!(app.stored().is_empty());
}
