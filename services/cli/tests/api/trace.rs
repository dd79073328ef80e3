//! `--trace`: the request carries the client's `traceparent`, the client's
//! own span is exported, and the service's spans join that trace (checked
//! in an OTLP receiver standing in for Jaeger, which cannot run here).

use inlet_testkit::otlp::OtlpReceiver;
use inlet_testkit::process::{sibling_binary, ServiceProcess};
use inlet_testkit::WAIT;

use crate::helpers::{inlet_with_env, url};

#[tokio::test]
async fn a_traced_post_is_one_trace_that_starts_at_the_client() {
    let receiver = OtlpReceiver::start().await;
    let endpoint = receiver.grpc_endpoint();
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().display().to_string();
    let forms = ServiceProcess::start(
        sibling_binary("inlet-forms").to_str().unwrap(),
        &[
            ("INLET_LISTEN", "127.0.0.1:0"),
            ("INLET_DATA_DIR", &data_dir),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
        ],
    )
    .await;

    let run = inlet_with_env(
        &[
            "post",
            &url(&forms, "/"),
            "--json",
            r#"{"traced":true}"#,
            "--trace",
        ],
        b"",
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)],
    )
    .await;
    assert_eq!(run.code(), 0, "{run:?}");
    let trace_id = run.trace_id();

    let client = receiver
        .wait_for_span(WAIT, |s| s.name == "inlet post" && s.trace_id == trace_id)
        .await
        .expect("the client's span is exported");
    assert_eq!(client.service_name, "inlet-cli");
    assert!(
        client.parent_span_id.is_empty(),
        "the client's span is the root"
    );
    assert_eq!(
        client.attr_i64("http.response.status_code"),
        Some(200),
        "{:?}",
        client.attributes
    );
    let server = receiver
        .wait_for_span(WAIT, |s| {
            s.trace_id == trace_id
                && s.service_name == "inlet-forms"
                && s.parent_span_id == client.span_id
        })
        .await
        .expect("forms' request span is the client's child");
    assert_eq!(server.kind, 2, "a server span");
    assert!(server.name.contains("POST"), "{}", server.name);
}
