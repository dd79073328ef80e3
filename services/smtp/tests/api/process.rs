//! The binary as operators run it: a mail that carries a `traceparent` is
//! stored in that trace, and its `MailReceived` event reaches the gateway
//! (the real gateway binary) in the same trace.

use inlet_testkit::otlp::OtlpReceiver;
use inlet_testkit::process::{sibling_binary, ServiceProcess};
use inlet_testkit::smtp;
use inlet_testkit::WAIT;

const BIN: &str = env!("CARGO_BIN_EXE_inlet-smtp");

/// The port named by the JSON log line whose message is `message`.
async fn port_logged(process: &ServiceProcess, message: &str) -> u16 {
    let line = process
        .wait_for_log(|v| v["message"] == message)
        .await
        .unwrap_or_else(|| panic!("no {message:?} line"));
    line["fields"]["port"].as_u64().unwrap() as u16
}

#[tokio::test]
async fn a_traced_mail_is_stored_and_announced_in_its_senders_trace() {
    let receiver = OtlpReceiver::start().await;
    let endpoint = receiver.grpc_endpoint();
    let gateway_bin = sibling_binary("inlet-gateway");
    let mut gateway = ServiceProcess::start(
        gateway_bin.to_str().unwrap(),
        &[
            ("INLET_LISTEN", "127.0.0.1:0"),
            ("INLET_GRPC_LISTEN", "127.0.0.1:0"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
        ],
    )
    .await;
    let grpc_port = port_logged(&gateway, "event ingest (gRPC) listening").await;
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().display().to_string();
    let gateway_url = format!("http://127.0.0.1:{grpc_port}");
    let mut smtp = ServiceProcess::start(
        BIN,
        &[
            ("INLET_SMTP_LISTEN", "127.0.0.1:0"),
            ("INLET_ADMIN_LISTEN", "127.0.0.1:0"),
            ("INLET_LISTEN", "127.0.0.1:0"),
            ("INLET_DATA_DIR", &data_dir),
            ("INLET_GATEWAY_URL", &gateway_url),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
        ],
    )
    .await;
    let smtp_port = port_logged(&smtp, "inlet-smtp SMTP listening").await;
    let api_port = port_logged(&smtp, "inlet-smtp listening").await;
    let mut feed = inlet_testkit::ws::connect_as_admin(&format!(
        "ws://127.0.0.1:{}/events?topics=mail",
        gateway.port
    ))
    .await;
    inlet_testkit::ws::next_json(&mut feed).await;

    let trace_id = "0af7651916cd43dd8448eb211c80319c";
    let message =
        format!("traceparent: 00-{trace_id}-b7ad6b7169203331-01\r\nSubject: traced\r\n\r\nhi\r\n.");
    let codes = smtp::codes(
        smtp_port,
        &[
            "helo client",
            "mail from:<me@me.com>",
            "rcpt to:<you@example.com>",
            "data",
            &message,
        ],
    )
    .await;
    assert_eq!(codes, [220, 250, 250, 250, 354, 250]);

    let event = inlet_testkit::ws::next_json(&mut feed).await;
    assert_eq!(event["kind"], "mail_received");
    assert_eq!(
        event["data"]["recipients"],
        serde_json::json!(["you@example.com"])
    );
    let path = event["data"]["mailbox_paths"][0]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(path.starts_with("mail/you/new/"), "{path}");
    assert!(data.path().join(&path).is_file());

    // The stored message, its event and the mail API carry the same trace id.
    assert_eq!(event["trace_id"], trace_id);
    let stored_bytes = std::fs::read(data.path().join(&path)).unwrap();
    let text = String::from_utf8_lossy(&stored_bytes);
    let ours = format!("X-Inlet-Trace-Id: {trace_id}\r\ntraceparent: ");
    assert!(
        text.contains(&ours),
        "written before the message's own lines: {text}"
    );
    let api = inlet_testkit::http::admin_client();
    let listed = inlet_testkit::http::get_json_as_admin(&format!(
        "http://127.0.0.1:{api_port}/messages?mailbox=you"
    ))
    .await;
    let item = &listed["messages"][0];
    assert_eq!(item["trace_id"], trace_id, "{listed}");
    assert_eq!(item["subject"], "traced");
    let id = item["id"].as_str().unwrap();
    let raw = api
        .get(format!("http://127.0.0.1:{api_port}/messages/{id}/raw"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(
        raw.as_ref(),
        stored_bytes.as_slice(),
        "the stored bytes, exactly"
    );

    assert!(smtp.terminate().await.success());
    assert!(gateway.terminate().await.success());
    let stored = receiver
        .wait_for_span(WAIT, |s| s.name == "smtp.message")
        .await
        .expect("the smtp.message span");
    assert_eq!(stored.trace_id, trace_id, "the message's own trace");
    assert_eq!(stored.parent_span_id, "b7ad6b7169203331");
    assert_eq!(stored.attr_i64("smtp.reply_code"), Some(250));
    let at_gateway = receiver
        .wait_for_span(WAIT, |s| {
            s.name == "gateway.publish" && s.service_name == "inlet-gateway"
        })
        .await
        .expect("the gateway's publish span");
    assert_eq!(
        at_gateway.trace_id, trace_id,
        "the event joins the same trace"
    );
    let session = receiver
        .wait_for_span(WAIT, |s| s.name == "smtp.session")
        .await
        .expect("the smtp.session span");
    assert_eq!(session.attr_str("smtp.helo"), Some("client"));
    assert_eq!(session.attr_str("client.address"), Some("127.0.0.1"));
    assert!(session.attr_str("smtp.outcome").is_some());
}

#[tokio::test]
async fn a_refused_recipient_is_logged_once_at_info_not_as_an_error() {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().display().to_string();
    let mut smtp = ServiceProcess::start(
        BIN,
        &[
            ("INLET_SMTP_LISTEN", "127.0.0.1:0"),
            ("INLET_ADMIN_LISTEN", "127.0.0.1:0"),
            ("INLET_DATA_DIR", &data_dir),
        ],
    )
    .await;
    let port = port_logged(&smtp, "inlet-smtp SMTP listening").await;
    let codes = smtp::codes(
        port,
        &[
            "helo client",
            "mail from:<me@me.com>",
            "rcpt to:<nobody@example.com>",
            "quit",
        ],
    )
    .await;
    assert_eq!(codes, [220, 250, 250, 550, 221]);
    let refused = smtp
        .wait_for_log(|v| v["message"] == "no mailbox for recipient")
        .await
        .expect("our own line for the refusal");
    assert_eq!(refused["level"], "INFO");
    assert!(smtp.terminate().await.success());
    let errors: Vec<String> = smtp
        .logs()
        .into_iter()
        .filter(|l| l.contains("\"level\":\"ERROR\""))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[tokio::test]
async fn hostile_sessions_cost_bounded_memory_and_write_no_error_line_or_content() {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().display().to_string();
    let mut smtp = ServiceProcess::start(
        BIN,
        &[
            ("INLET_SMTP_LISTEN", "127.0.0.1:0"),
            ("INLET_ADMIN_LISTEN", "127.0.0.1:0"),
            ("INLET_DATA_DIR", &data_dir),
            ("INLET_SMTP__MAX_MESSAGE_BYTES", "1048576"),
        ],
    )
    .await;
    let port = port_logged(&smtp, "inlet-smtp SMTP listening").await;
    let marker = "CONTENT-MARKER-7f3a";
    let before = inlet_testkit::process::rss_kib(smtp.pid());

    // 64 MiB of lines after a byte that is not UTF-8, against a 1 MiB limit.
    let mut session = smtp::connect(port).await;
    assert_eq!(session.code().await, 220);
    assert_eq!(session.say("ehlo client").await, 250);
    session.start_message(&["you@example.com"]).await;
    session
        .send(format!("Subject: caf\u{e9} {marker}\r\n\r\n").as_bytes())
        .await;
    let line = format!("{marker} {}\r\n", "x".repeat(1000));
    let block = line.repeat(1024);
    for _ in 0..64 {
        session.send(block.as_bytes()).await;
    }
    let peak_while_streaming = inlet_testkit::process::peak_rss_kib(smtp.pid());
    assert_eq!(session.say(".").await, 552, "over the limit, and answered");
    assert!(
        peak_while_streaming < before + 24 * 1024,
        "RSS went from {before} KiB to {peak_while_streaming} KiB"
    );

    // Leaving in the middle of a command, and in DATA right after a dot.
    let mut session = smtp::connect(port).await;
    session
        .send(format!("ehlo {marker}-unfinished").as_bytes())
        .await;
    drop(session);
    let mut session = smtp::connect(port).await;
    assert_eq!(session.code().await, 220);
    assert_eq!(session.say("ehlo client").await, 250);
    session.start_message(&["you@example.com"]).await;
    session.send(format!("{marker}\r\n.").as_bytes()).await;
    drop(session);
    // Commands samotop does not understand, with content in them.
    let codes = smtp::codes(port, &[&format!("frobnicate {marker}"), "quit"]).await;
    assert_eq!(codes, [220, 500, 221]);

    assert!(smtp.terminate().await.success());
    let logs = smtp.logs();
    let errors: Vec<&String> = logs
        .iter()
        .filter(|l| l.contains("\"level\":\"ERROR\""))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let leaked: Vec<&String> = logs.iter().filter(|l| l.contains(marker)).collect();
    assert!(leaked.is_empty(), "{leaked:#?}");
}
