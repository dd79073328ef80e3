//! `inlet events` following a real gateway fed by real forms and uploads.

use serde_json::Value;

use crate::helpers::{closed_port, follow, inlet, service, url, Gateway};

#[tokio::test]
async fn events_prints_arrivals_and_reconnects_by_itself_after_a_gateway_restart() {
    let gateway = Gateway::start().await;
    let data = tempfile::tempdir().unwrap();
    let forms = service("forms", data.path(), Some(&gateway), &[]).await;
    let uploads = service("uploads", data.path(), Some(&gateway), &[]).await;
    let mut follower = follow(&["events", &gateway.ws("/events"), "--json"]);
    follower.status("-- subscribed").await;

    let post = inlet(&["post", &url(&forms, "/"), "--json", r#"{"n":1}"#], b"").await;
    assert_eq!(post.code(), 0);
    let file = data.path().join("a.txt");
    std::fs::write(&file, "a").unwrap();
    let put = inlet(&["put", &url(&uploads, "/"), file.to_str().unwrap()], b"").await;
    assert_eq!(put.code(), 0);

    // Two services publish on their own: either may reach the gateway first.
    let mut got: Vec<Value> = vec![
        serde_json::from_str(&follower.next().await).unwrap(),
        serde_json::from_str(&follower.next().await).unwrap(),
    ];
    got.sort_by_key(|e| e["kind"].as_str().unwrap().to_owned());
    let [second, first] = <[Value; 2]>::try_from(got).unwrap();
    assert_eq!(first["kind"], "form_submitted", "{first}");
    assert_eq!(first["data"]["field_names"], serde_json::json!(["n"]));
    assert_eq!(second["kind"], "file_stored", "{second}");
    assert_eq!(second["data"]["original_name"], "a.txt");

    // The gateway goes away and comes back on the same ports.
    let http = format!("127.0.0.1:{}", gateway.process.port);
    let grpc = format!("127.0.0.1:{}", gateway.grpc_port);
    let Gateway {
        process: mut old, ..
    } = gateway;
    assert!(old.terminate().await.success());
    follower.status("reconnecting").await;
    let _gateway = Gateway::start_on(&http, &grpc).await;
    let said = follower.status("-- subscribed").await;
    assert!(said.iter().any(|l| l == "-- reconnected --"), "{said:?}");

    let post = inlet(&["post", &url(&forms, "/"), "--json", r#"{"n":2}"#], b"").await;
    assert_eq!(post.code(), 0);
    let third: Value = serde_json::from_str(&follower.next().await).unwrap();
    assert_eq!(third["kind"], "form_submitted", "{third}");
    assert_eq!(
        third["sequence"], 1,
        "a new gateway run numbers from 1: {third}"
    );

    assert!(follower.interrupt().await.success());
}

#[tokio::test]
async fn readable_lines_say_what_arrived_and_topics_filter() {
    let gateway = Gateway::start().await;
    let data = tempfile::tempdir().unwrap();
    let forms = service("forms", data.path(), Some(&gateway), &[]).await;
    let uploads = service("uploads", data.path(), Some(&gateway), &[]).await;
    let mut follower = follow(&["events", &gateway.ws("/events"), "--topics", "uploads"]);
    follower.status("-- subscribed").await;

    inlet(&["post", &url(&forms, "/"), "--json", "{}"], b"").await;
    let file = data.path().join("report.pdf");
    std::fs::write(&file, vec![b'x'; 1536]).unwrap();
    inlet(&["put", &url(&uploads, "/"), file.to_str().unwrap()], b"").await;

    // Only the upload: the form post is on another topic.
    let line = follower.next().await;
    assert!(line.contains("file_stored"), "{line}");
    assert!(line.contains("inlet-uploads"), "{line}");
    assert!(line.contains("report.pdf as "), "{line}");
    assert!(line.ends_with("1.5 KiB"), "{line}");
    assert!(follower.interrupt().await.success());
}

#[tokio::test]
async fn with_no_gateway_at_the_start_it_says_so_and_exits_1() {
    let closed = closed_port();
    let run = inlet(&["events", &format!("ws://127.0.0.1:{closed}/events")], b"").await;
    assert_eq!(run.code(), 1, "{run:?}");
    assert!(run.stderr.contains("cannot connect"), "{}", run.stderr);
}

#[tokio::test]
async fn get_and_events_send_the_token_and_say_plainly_when_it_is_refused() {
    let gateway = Gateway::start().await;
    let data = tempfile::tempdir().unwrap();
    let forms = service("forms", data.path(), Some(&gateway), &[]).await;
    assert_eq!(
        inlet(&["post", &url(&forms, "/"), "--form", "a=1"], b"")
            .await
            .code(),
        0
    );
    // INLET_TOKEN (set by the test kit) is sent.
    let read = inlet(&["get", &url(&forms, "/submissions")], b"").await;
    assert_eq!(read.code(), 0, "{read:?}");
    assert!(read.stdout.contains("\"a\""), "{}", read.stdout);
    // A wrong one: the server's one-line reason and exit 4 (a 4xx answer).
    let wrong = crate::helpers::inlet_with_env(
        &["get", &url(&forms, "/submissions")],
        b"",
        &[("INLET_TOKEN", "not-the-token-0123456789")],
    )
    .await;
    assert_eq!(wrong.code(), 4, "{wrong:?}");
    assert!(wrong.stderr.contains("401"), "{}", wrong.stderr);
    // --token wins over the variable.
    let flag = crate::helpers::inlet_with_env(
        &[
            "get",
            &url(&forms, "/submissions"),
            "--token",
            inlet_testkit::access::ADMIN_TOKEN,
        ],
        b"",
        &[("INLET_TOKEN", "not-the-token-0123456789")],
    )
    .await;
    assert_eq!(flag.code(), 0, "{flag:?}");
    // The feed refuses a wrong token at the handshake: one clear line, exit 1.
    let events = crate::helpers::inlet_with_env(
        &["events", &gateway.ws("/events")],
        b"",
        &[("INLET_TOKEN", "not-the-token-0123456789")],
    )
    .await;
    assert_eq!(events.code(), 1, "{events:?}");
    assert!(events.stderr.contains("401"), "{}", events.stderr);
    assert!(events.stderr.contains("not accepted"), "{}", events.stderr);
}

#[tokio::test]
async fn delete_removes_an_item_with_the_token_and_the_feed_says_so() {
    let gateway = Gateway::start().await;
    let data = tempfile::tempdir().unwrap();
    let forms = service("forms", data.path(), Some(&gateway), &[]).await;
    let mut follower = follow(&["events", &gateway.ws("/events"), "--topics", "forms"]);
    follower.status("-- subscribed").await;
    let post = inlet(&["post", &url(&forms, "/"), "--json", r#"{"n":1}"#], b"").await;
    assert_eq!(post.code(), 0);
    assert!(follower.next().await.contains("form_submitted"));
    let page = inlet(&["get", &url(&forms, "/submissions"), "--raw"], b"").await;
    let page: Value = serde_json::from_str(&page.stdout).unwrap();
    let id = page["submissions"][0]["id"].as_str().unwrap().to_owned();
    let item = url(&forms, &format!("/submissions/{id}"));

    // A wrong token deletes nothing: exit 4 with the server's reason.
    let wrong = crate::helpers::inlet_with_env(
        &["delete", &item],
        b"",
        &[("INLET_TOKEN", "not-the-token-0123456789")],
    )
    .await;
    assert_eq!(wrong.code(), 4, "{wrong:?}");
    assert!(wrong.stderr.contains("401"), "{}", wrong.stderr);

    let deleted = inlet(&["delete", &item], b"").await;
    assert_eq!(deleted.code(), 0, "{deleted:?}");
    assert!(deleted.stderr.contains("204"), "{}", deleted.stderr);
    let line = follower.next().await;
    assert!(line.contains("submission_deleted"), "{line}");
    assert!(line.contains(&id), "{line}");
    let gone = inlet(&["get", &item], b"").await;
    assert_eq!(gone.code(), 4, "{gone:?}");

    // Again: 404 is exit 4, or 0 with --missing-ok.
    let again = inlet(&["delete", &item], b"").await;
    assert_eq!(again.code(), 4, "{again:?}");
    assert!(again.stderr.contains("404"), "{}", again.stderr);
    let tolerant = inlet(&["delete", &item, "--missing-ok"], b"").await;
    assert_eq!(tolerant.code(), 0, "{tolerant:?}");
    assert!(follower.interrupt().await.success());
}
