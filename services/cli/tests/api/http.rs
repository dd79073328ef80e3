//! `inlet post` and `inlet get` against inlet-forms (and, for answers no
//! Inlet service gives, a raw TCP server written into the test).

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::helpers::{closed_port, inlet, service, url};

/// A server that reads one request head and answers `reply`, then closes.
async fn one_shot(reply: &'static [u8]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).await.unwrap() == 1 {
            head.push(byte[0]);
        }
        stream.write_all(reply).await.unwrap();
        stream.shutdown().await.unwrap();
    });
    format!("http://127.0.0.1:{port}/")
}

/// A server that takes connections and requests and never answers.
async fn silent() -> (u16, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            open.push(stream);
        }
    });
    (port, held)
}

#[tokio::test]
async fn a_server_that_never_answers_is_given_up_after_the_timeout() {
    let (port, _held) = silent().await;
    let started = std::time::Instant::now();
    let run = inlet(
        &[
            "get",
            &format!("http://127.0.0.1:{port}/"),
            "--timeout",
            "0.5",
        ],
        b"",
    )
    .await;
    assert_eq!(run.code(), 1, "{run:?}");
    assert!(
        run.stderr.contains("timed out (--timeout)"),
        "{}",
        run.stderr
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));

    let run = inlet(
        &["ws", &format!("ws://127.0.0.1:{port}/"), "--timeout", "0.5"],
        b"hi\n",
    )
    .await;
    assert_eq!(run.code(), 1, "{run:?}");
    assert!(
        run.stderr.contains("no answer within 0.5s (--timeout)"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn a_json_body_arrives_byte_exact_with_its_byte_length() {
    let data = tempfile::tempdir().unwrap();
    let forms = service("forms", data.path(), None, &[]).await;
    let payload = r#"{"name":"Cian Ó Maidín","company":"nearForm","emoji":"🦀"}"#;
    assert!(
        payload.len() > payload.chars().count(),
        "the payload is not ASCII"
    );

    let run = inlet(&["post", &url(&forms, "/"), "--json", payload, "-v"], b"").await;
    assert_eq!(run.code(), 0, "{run:?}");
    assert!(
        run.stderr
            .contains(&format!("> content-length: {}", payload.len())),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("HTTP/1.1 200 OK"), "{}", run.stderr);
    let answer: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(answer["data"]["name"], "Cian Ó Maidín");

    // What forms stored is the document sent, field for field.
    let run = inlet(
        &[
            "get",
            &url(&forms, "/submissions"),
            "--field",
            "submissions",
        ],
        b"",
    )
    .await;
    assert_eq!(run.code(), 0, "{run:?}");
    let stored: Value = serde_json::from_str(&run.stdout).unwrap();
    let sent: Value = serde_json::from_str(payload).unwrap();
    assert_eq!(stored[0]["fields"], sent, "{stored}");
    assert_eq!(stored[0]["content_type"], "application/json");
}

#[tokio::test]
async fn json_comes_from_a_file_or_stdin_and_forms_are_urlencoded() {
    let data = tempfile::tempdir().unwrap();
    let forms = service("forms", data.path(), None, &[]).await;
    let file = data.path().join("order.json");
    std::fs::write(&file, r#"{"from":"file"}"#).unwrap();
    let at_file = format!("@{}", file.display());

    let from_file = inlet(&["post", &url(&forms, "/"), "--json", &at_file], b"").await;
    let from_stdin = inlet(
        &["post", &url(&forms, "/"), "--json", "-"],
        br#"{"from":"stdin"}"#,
    )
    .await;
    let form = inlet(
        &[
            "post",
            &url(&forms, "/"),
            "--form",
            "name=Ada Lovelace",
            "--form",
            "note=a&b=c",
        ],
        b"",
    )
    .await;
    for run in [&from_file, &from_stdin, &form] {
        assert_eq!(run.code(), 0, "{run:?}");
    }
    assert_eq!(
        form.stdout,
        r#"You Posted: {"name":"Ada Lovelace","note":"a&b=c"}"#
    );

    let run = inlet(&["get", &url(&forms, "/submissions")], b"").await;
    let page: Value = serde_json::from_str(&run.stdout).unwrap();
    let fields: Vec<&Value> = page["submissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["fields"])
        .collect();
    assert!(
        fields.contains(&&serde_json::json!({"from": "file"})),
        "{page}"
    );
    assert!(
        fields.contains(&&serde_json::json!({"from": "stdin"})),
        "{page}"
    );
    assert!(
        run.stdout.contains("\n  \"submissions\""),
        "pretty-printed: {}",
        run.stdout
    );

    // A missing @file stops before anything is sent.
    let missing = inlet(
        &["post", &url(&forms, "/"), "--json", "@/nonexistent/x.json"],
        b"",
    )
    .await;
    assert_eq!(missing.code(), 1);
    assert!(
        missing.stderr.contains("cannot read /nonexistent/x.json"),
        "{}",
        missing.stderr
    );
}

#[tokio::test]
async fn the_exit_status_says_how_the_server_answered() {
    let data = tempfile::tempdir().unwrap();
    let forms = service("forms", data.path(), None, &[]).await;

    let ok = inlet(&["get", &url(&forms, "/")], b"").await;
    assert_eq!(ok.code(), 0, "{ok:?}");
    let missing = inlet(&["get", &url(&forms, "/no-such-page")], b"").await;
    assert_eq!(missing.code(), 4, "{missing:?}");
    assert!(
        missing.stderr.contains("404 Not Found"),
        "{}",
        missing.stderr
    );
    let refused = inlet(&["post", &url(&forms, "/"), "--json", "{not json"], b"").await;
    assert_eq!(refused.code(), 4, "{refused:?}");

    let broken =
        one_shot(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 5\r\n\r\noops!").await;
    let failed = inlet(&["post", &broken, "--json", "{}"], b"").await;
    assert_eq!(failed.code(), 5, "{failed:?}");
    assert_eq!(failed.stdout, "oops!");

    // Nobody listening: one line, no panic, no backtrace.
    let closed = closed_port();
    let unreachable = inlet(
        &[
            "post",
            &format!("http://127.0.0.1:{closed}/"),
            "--json",
            "{}",
        ],
        b"",
    )
    .await;
    assert_eq!(unreachable.code(), 1, "{unreachable:?}");
    assert_eq!(
        unreachable.stderr.lines().count(),
        1,
        "{}",
        unreachable.stderr
    );
    assert!(
        unreachable.stderr.contains("cannot connect"),
        "{}",
        unreachable.stderr
    );
    assert!(
        !unreachable.stderr.contains("panicked"),
        "{}",
        unreachable.stderr
    );
}

#[tokio::test]
async fn get_checks_the_length_and_picks_one_field() {
    let short = one_shot(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"guid\":\"x\"}").await;
    let run = inlet(&["get", &short], b"").await;
    assert_eq!(run.code(), 1, "{run:?}");
    assert!(
        run.stderr
            .contains("the response was 12 bytes but Content-Length said 100"),
        "{}",
        run.stderr
    );

    let whole = one_shot(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 38\r\n\r\n{\"guid\":\"4a1b\",\"count\":2,\"ok\":[true]}\n").await;
    let run = inlet(&["get", &whole, "--field", "guid"], b"").await;
    assert_eq!(run.code(), 0, "{run:?}");
    assert_eq!(run.stdout, "4a1b\n");

    let whole = one_shot(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 13\r\n\r\n{\"count\":2}\r\n").await;
    let run = inlet(&["get", &whole, "--field", "guid"], b"").await;
    assert_eq!(run.code(), 1, "{run:?}");
    assert!(run.stderr.contains("no field \"guid\""), "{}", run.stderr);
}

#[tokio::test]
async fn output_closed_by_its_reader_ends_quietly() {
    let body = "x".repeat(4 * 1024 * 1024);
    let reply = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let url = one_shot(Box::leak(reply.into_bytes().into_boxed_slice())).await;
    // Like `inlet get URL | head -c 1`: the reader goes away early.
    let mut child = crate::helpers::command(&["get", &url])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = tokio::time::timeout(inlet_testkit::WAIT, child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("inlet:"), "no error line: {stderr}");
}

#[tokio::test]
async fn a_streamed_post_carries_50_mib_in_constant_memory() {
    const SIZE: usize = 50 * 1024 * 1024;
    let data = tempfile::tempdir().unwrap();
    let uploads = service("uploads", data.path(), None, &[]).await;
    let forms = service(
        "forms",
        data.path(),
        None,
        &[("INLET_LIMITS__MAX_BODY_BYTES", "67108864")],
    )
    .await;
    // A 50 MiB JSON document, stored on uploads so that it can be streamed from there.
    let big = data.path().join("big.json");
    // Written piece by piece: the test process stays small, and so does what
    // a child it starts inherits before it runs inlet.
    {
        use std::io::Write;
        let mut file = std::io::BufWriter::new(std::fs::File::create(&big).unwrap());
        file.write_all(b"{\"blob\":\"").unwrap();
        let piece = vec![b'a'; 1024 * 1024];
        let mut left = SIZE - 11;
        while left > 0 {
            let n = left.min(piece.len());
            file.write_all(&piece[..n]).unwrap();
            left -= n;
        }
        file.write_all(b"\"}").unwrap();
        file.flush().unwrap();
    }
    assert_eq!(std::fs::metadata(&big).unwrap().len(), SIZE as u64);
    let put = inlet(
        &[
            "put",
            &url(&uploads, "/"),
            big.to_str().unwrap(),
            "-H",
            "accept: application/json",
        ],
        b"",
    )
    .await;
    assert_eq!(put.code(), 0, "{put:?}");
    let stored: Value = serde_json::from_str(&put.stdout).unwrap();
    let name = stored["stored"][0]["name"].as_str().unwrap().to_owned();

    let before = children_max_rss_kib();
    let run = inlet(
        &[
            "post",
            &url(&forms, "/"),
            "--stream-from",
            &url(&uploads, &format!("/files/{name}")),
            "-v",
        ],
        b"",
    )
    .await;
    assert_eq!(run.code(), 0, "{run:?}");
    // Sent chunked: the length is not known up front.
    assert!(!run.stderr.contains("> content-length"), "{}", run.stderr);
    let peak = children_max_rss_kib();
    // The whole document is 50 MiB; the client never held more than a small part of it.
    assert!(
        peak < 40 * 1024,
        "inlet's peak RSS was {peak} KiB (before: {before} KiB)"
    );

    let submitted: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(submitted["data"]["blob"].as_str().unwrap().len(), SIZE - 11);
}

/// The largest peak RSS of any child this test process has waited for, in KiB.
fn children_max_rss_kib() -> i64 {
    nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
        .unwrap()
        .max_rss()
}
