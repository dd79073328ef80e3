//! The gateway binary as operators run it: log lines, traces joined with a
//! publisher's, SIGTERM, and memory under a subscriber that never reads.

use inlet_testkit::otlp::OtlpReceiver;
use inlet_testkit::process::{rss_kib, sibling_binary, ServiceProcess};
use inlet_testkit::ws::{self, close_code, next_json, next_text, send_text};
use inlet_testkit::WAIT;

use crate::helpers::{form_event, publish};

const BIN: &str = env!("CARGO_BIN_EXE_inlet-gateway");

/// Starts the binary on free ports; gives it and its gRPC port.
async fn start_gateway(env: &[(&str, &str)]) -> (ServiceProcess, u16) {
    let mut all = vec![
        ("INLET_LISTEN", "127.0.0.1:0"),
        ("INLET_GRPC_LISTEN", "127.0.0.1:0"),
    ];
    all.extend_from_slice(env);
    let gateway = ServiceProcess::start(BIN, &all).await;
    let line = gateway
        .wait_for_log(|v| v["message"] == "event ingest (gRPC) listening")
        .await
        .expect("the ingest reports its port");
    let grpc_port = line["fields"]["port"].as_u64().unwrap() as u16;
    (gateway, grpc_port)
}

#[tokio::test]
async fn messages_are_logged_with_the_client_address_believing_only_trusted_proxies() {
    let (mut gateway, _) =
        start_gateway(&[("INLET_WEBSOCKET__TRUSTED_PROXIES", "127.0.0.0/8")]).await;
    let url = format!("ws://127.0.0.1:{}/", gateway.port);
    let mut socket = ws::try_connect(&url, &[("x-forwarded-for", "203.0.113.7")])
        .await
        .unwrap();
    send_text(&mut socket, "Hello").await;
    assert_eq!(next_text(&mut socket).await, "Websockets!");
    let line = gateway
        .wait_for_log(|v| v["message"] == "message received")
        .await
        .expect("a log line per message");
    assert_eq!(line["fields"]["text"], "\"Hello\"");
    assert_eq!(line["fields"]["client.address"], "203.0.113.7");

    // SIGTERM: the socket is told the gateway is going away, and it exits 0.
    let status = tokio::join!(gateway.terminate(), close_code(&mut socket));
    assert!(status.0.success(), "clean exit on SIGTERM");
    assert_eq!(status.1 .0, 1001);

    // Without the proxy trusted, the header is ignored.
    let (gateway, _) = start_gateway(&[]).await;
    let url = format!("ws://127.0.0.1:{}/", gateway.port);
    let mut socket = ws::try_connect(&url, &[("x-forwarded-for", "203.0.113.7")])
        .await
        .unwrap();
    send_text(&mut socket, "hi").await;
    let line = gateway
        .wait_for_log(|v| v["message"] == "message received")
        .await
        .unwrap();
    assert_eq!(line["fields"]["client.address"], "127.0.0.1");
}

#[tokio::test]
async fn one_form_post_is_one_trace_across_forms_and_the_gateway() {
    let receiver = OtlpReceiver::start().await;
    let endpoint = receiver.grpc_endpoint();
    let (mut gateway, grpc_port) =
        start_gateway(&[("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)]).await;
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().display().to_string();
    let gateway_url = format!("http://127.0.0.1:{grpc_port}");
    let forms_bin = sibling_binary("inlet-forms");
    let mut forms = ServiceProcess::start(
        forms_bin.to_str().unwrap(),
        &[
            ("INLET_LISTEN", "127.0.0.1:0"),
            ("INLET_DATA_DIR", &data_dir),
            ("INLET_GATEWAY_URL", &gateway_url),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
        ],
    )
    .await;
    let mut feed = ws::connect_as_admin(&format!("ws://127.0.0.1:{}/events", gateway.port)).await;
    next_json(&mut feed).await;
    let mut chat = ws::connect(&format!("ws://127.0.0.1:{}/", gateway.port)).await;
    send_text(&mut chat, "Hello").await;
    assert_eq!(next_text(&mut chat).await, "Websockets!");
    drop(chat);
    let res = inlet_testkit::http::client()
        .post(format!("{}/", forms.url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("traced=yes")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(next_json(&mut feed).await["kind"], "form_submitted");
    // uploads publishes from its handler, outside any span of its own: the
    // event still joins the request's trace (here the client's).
    let uploads_bin = sibling_binary("inlet-uploads");
    let mut uploads = ServiceProcess::start(
        uploads_bin.to_str().unwrap(),
        &[
            ("INLET_LISTEN", "127.0.0.1:0"),
            ("INLET_DATA_DIR", &data_dir),
            ("INLET_GATEWAY_URL", &gateway_url),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
        ],
    )
    .await;
    let upload_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let res = inlet_testkit::http::client()
        .put(format!("{}/", uploads.url()))
        .header("x-field", "userfile1")
        .header("x-filename", "traced.txt")
        .header(
            "traceparent",
            format!("00-{upload_trace}-00f067aa0ba902b7-01"),
        )
        .body("traced")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(next_json(&mut feed).await["kind"], "file_stored");
    drop(feed);
    // Exit flushes each one's spans.
    assert!(uploads.terminate().await.success());
    assert!(forms.terminate().await.success());
    assert!(gateway.terminate().await.success());

    let from_uploads = receiver
        .wait_for_span(WAIT, |s| {
            s.name == "gateway.publish"
                && s.service_name == "inlet-gateway"
                && s.trace_id == upload_trace
        })
        .await
        .expect("the gateway's publish span in the upload's trace");
    let uploads_client = receiver
        .spans()
        .into_iter()
        .find(|s| s.service_name == "inlet-uploads" && s.name == "gateway.publish")
        .expect("uploads' publish span");
    assert_eq!(uploads_client.trace_id, upload_trace);
    assert_eq!(from_uploads.parent_span_id, uploads_client.span_id);
    let publish_server = receiver
        .wait_for_span(WAIT, |s| {
            s.name == "gateway.publish"
                && s.service_name == "inlet-gateway"
                && s.trace_id != upload_trace
        })
        .await
        .expect("the gateway's publish span");
    let trace = publish_server.trace_id.clone();
    let spans: Vec<_> = receiver
        .spans()
        .into_iter()
        .filter(|s| s.trace_id == trace)
        .collect();
    let find = |service: &str, name: &str| {
        spans
            .iter()
            .find(|s| s.service_name == service && s.name == name)
            .unwrap_or_else(|| panic!("no {service} {name} span in the trace: {spans:#?}"))
    };
    let request = spans
        .iter()
        .find(|s| {
            s.service_name == "inlet-forms" && s.attr_str("http.request.method") == Some("POST")
        })
        .unwrap_or_else(|| panic!("no forms request span in the trace: {spans:#?}"));
    let publish_client = find("inlet-forms", "gateway.publish");
    let deliver = find("inlet-gateway", "gateway.deliver");
    // SpanKind: 2 server, 3 client.
    assert_eq!(publish_client.kind, 3);
    assert_eq!(publish_server.kind, 2);
    assert_eq!(publish_server.parent_span_id, publish_client.span_id);
    assert_eq!(deliver.parent_span_id, publish_server.span_id);
    assert_eq!(deliver.attr_i64("subscribers"), Some(1));
    // The client span sits under the request (through the store span).
    let mut ancestor = publish_client.parent_span_id.clone();
    let mut hops = 0;
    while ancestor != request.span_id {
        let parent = spans
            .iter()
            .find(|s| s.span_id == ancestor)
            .unwrap_or_else(|| panic!("the publish span is not under the request: {spans:#?}"));
        ancestor = parent.parent_span_id.clone();
        hops += 1;
        assert!(hops < 10);
    }
    let spans = receiver.spans();
    let connection = |endpoint: &str| {
        spans
            .iter()
            .find(|s| s.name == "ws.connection" && s.attr_str("ws.endpoint") == Some(endpoint))
            .unwrap_or_else(|| panic!("no ws.connection span for {endpoint}"))
    };
    // The subscriber was sent its `subscribed` frame and the two events.
    assert_eq!(connection("events").attr_i64("ws.messages_out"), Some(3));
    let chat = connection("chat");
    assert_eq!(chat.attr_i64("ws.messages_in"), Some(1));
    assert_eq!(chat.attr_str("client.address"), Some("127.0.0.1"));
    let message = spans
        .iter()
        .find(|s| s.name == "ws.message")
        .expect("a ws.message span");
    assert_eq!(message.parent_span_id, chat.span_id);
    assert_eq!(message.attr_str("ws.message.type"), Some("text"));
    assert_eq!(message.attr_i64("ws.message.size"), Some(5));
}

#[tokio::test]
async fn a_subscriber_that_never_reads_does_not_grow_the_gateway() {
    let (gateway, grpc_port) = start_gateway(&[
        ("INLET_EVENTS__HISTORY", "100"),
        ("INLET_EVENTS__SUBSCRIBER_QUEUE", "256"),
        ("INLET_WEBSOCKET__SEND_TIMEOUT_MS", "1000"),
    ])
    .await;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{grpc_port}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut ingest =
        inlet_proto::events::v1::event_ingest_client::EventIngestClient::with_interceptor(
            channel,
            crate::helpers::add_publish_token as crate::helpers::AddToken,
        );
    let fields: Vec<String> = (0..200)
        .map(|i| format!("a_rather_long_field_name_{i:05}"))
        .collect();
    let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
    // Warm up, then take the baseline.
    for i in 0..200 {
        publish(&mut ingest, form_event(&format!("w{i}"), &fields)).await;
    }
    let baseline = rss_kib(gateway.pid());
    let url = format!("ws://127.0.0.1:{}/events", gateway.port);
    let stuck: Vec<_> =
        futures_util::future::join_all((0..20).map(|_| ws::connect_as_admin(&url))).await;
    // ~7 KiB an event, 5000 events: 35 MiB to each of 20 subscribers.
    for i in 0..5000 {
        publish(&mut ingest, form_event(&format!("e{i}"), &fields)).await;
    }
    let grown_kib = rss_kib(gateway.pid()).saturating_sub(baseline);
    assert!(
        grown_kib < 64 * 1024,
        "RSS grew by {grown_kib} KiB under subscribers that never read"
    );
    // Each is closed, for not reading or for falling behind.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let metrics =
            inlet_testkit::http::get_text_as_admin(&format!("{}/metrics", gateway.url())).await;
        if metrics.contains("inlet_gateway_slow_subscribers_closed_total 20") {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{metrics}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    drop(stuck);
}
