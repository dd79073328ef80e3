//! The stand-in answers Jaeger's query API for spans it received over OTLP.

use std::net::SocketAddr;

use inlet_e2e::jaeger_api::{Envelope, Trace};

use crate::http::get_json;
use inlet_e2e::standin::{Addresses, Standin};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;

const TRACE: [u8; 16] = [0xab; 16];
const SERVER: [u8; 8] = [1; 8];
const CHILD: [u8; 8] = [2; 8];
const OTHER: [u8; 8] = [3; 8];

fn attr(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

fn span(id: [u8; 8], parent: &[u8], name: &str, kind: i32, start: u64) -> Span {
    Span {
        trace_id: TRACE.to_vec(),
        span_id: id.to_vec(),
        parent_span_id: parent.to_vec(),
        name: name.into(),
        kind,
        start_time_unix_nano: start,
        end_time_unix_nano: start + 2_500_000,
        attributes: vec![
            attr("http.route", any_value::Value::StringValue("/".into())),
            attr("count", any_value::Value::IntValue(7)),
        ],
        ..Default::default()
    }
}

fn resource_spans(service: &str, spans: Vec<Span>) -> ResourceSpans {
    ResourceSpans {
        resource: Some(Resource {
            attributes: vec![attr(
                "service.name",
                any_value::Value::StringValue(service.into()),
            )],
            ..Default::default()
        }),
        scope_spans: vec![ScopeSpans {
            spans,
            ..Default::default()
        }],
        ..Default::default()
    }
}

#[actix_web::test]
async fn received_spans_come_back_as_jaeger_traces() {
    let any = SocketAddr::from(([127, 0, 0, 1], 0));
    let standin = Standin::start(Addresses {
        otlp_grpc: any,
        otlp_http: any,
        query: any,
    })
    .await
    .unwrap();
    let otlp = standin.receiver().http_endpoint();
    let query = standin.query_url();
    actix_web::rt::spawn(standin.run());
    inlet_testkit::http::install_crypto_provider();
    let client = reqwest::Client::builder()
        .timeout(inlet_testkit::WAIT)
        .build()
        .unwrap();

    let start = 1_700_000_000_000_000_000;
    let export = ExportTraceServiceRequest {
        resource_spans: vec![
            resource_spans(
                "svc-a",
                vec![
                    span(SERVER, &[], "POST /", 2, start),
                    span(CHILD, &SERVER, "stored", 1, start + 1000),
                ],
            ),
            resource_spans(
                "svc-b",
                vec![span(OTHER, &SERVER, "deliver", 2, start + 2000)],
            ),
        ],
    };
    let res = client
        .post(format!("{otlp}/v1/traces"))
        .header("content-type", "application/x-protobuf")
        .body(export.encode_to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let services: Envelope<Vec<String>> = get_json(&client, &format!("{query}/api/services")).await;
    assert_eq!(services.data, ["svc-a", "svc-b"]);

    let found: Envelope<Vec<Trace>> = get_json(
        &client,
        &format!("{query}/api/traces?service=svc-b&limit=5"),
    )
    .await;
    assert_eq!(found.data.len(), 1);
    let trace = &found.data[0];
    assert_eq!(trace.trace_id, "ab".repeat(16));
    assert_eq!(
        trace.spans.len(),
        3,
        "every span of the trace, not only svc-b's"
    );
    let child = trace.span_named("stored").unwrap();
    assert_eq!(child.parent_span_id(), Some("0101010101010101"));
    assert_eq!(trace.service_of(child), Some("svc-a"));
    assert_eq!(child.start_time, start / 1000 + 1);
    assert_eq!(child.duration, 2500);
    assert_eq!(child.tag("count"), Some(&serde_json::json!(7)));
    assert_eq!(child.tag("span.kind"), Some(&serde_json::json!("internal")));
    let server = trace.span_named("POST /").unwrap();
    assert!(server.parent_span_id().is_none());
    assert_eq!(server.tag("http.route"), Some(&serde_json::json!("/")));
    let deliver = trace.span_named("deliver").unwrap();
    assert_eq!(trace.service_of(deliver), Some("svc-b"));

    let by_id = client
        .get(format!("{query}/api/traces/{}", "AB".repeat(16)))
        .send()
        .await
        .unwrap();
    assert_eq!(by_id.status(), 200);
    let by_id: Envelope<Vec<Trace>> = by_id.json().await.unwrap();
    assert_eq!(by_id.data[0].spans.len(), 3);

    let filtered: Envelope<Vec<Trace>> = get_json(
        &client,
        &format!("{query}/api/traces?service=svc-b&operation=stored"),
    )
    .await;
    assert!(filtered.data.is_empty(), "svc-b has no span named stored");

    let missing = client
        .get(format!("{query}/api/traces/{}", "cd".repeat(16)))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let no_service = client
        .get(format!("{query}/api/traces"))
        .send()
        .await
        .unwrap();
    assert_eq!(no_service.status(), 400);
}
