//! Real publishers (inlet-forms, in this process) feeding the gateway.

use inlet_common::config::{load, ConfigSource};
use inlet_forms::config::FormsConfig;
use inlet_forms::startup::{Application, StartupError};
use inlet_testkit::server::Running;
use inlet_testkit::ws::next_json;

use crate::helpers::spawn_gateway;

/// inlet-forms in this process, publishing to `gateway_url`.
pub struct TestForms {
    pub port: u16,
    _data: tempfile::TempDir,
    _server: Running<StartupError>,
}

pub async fn spawn_forms(gateway_url: &str) -> TestForms {
    spawn_forms_with(gateway_url, &[]).await
}

/// As [`spawn_forms`], with extra `INLET_*` pairs.
pub async fn spawn_forms_with(gateway_url: &str, extra: &[(&str, &str)]) -> TestForms {
    let data = tempfile::tempdir().unwrap();
    let mut pairs = vec![
        ("INLET_LISTEN", "127.0.0.1:0".to_owned()),
        ("INLET_DATA_DIR", data.path().display().to_string()),
        ("INLET_GATEWAY_URL", gateway_url.to_owned()),
        ("INLET_PUBLISH__RETRY_MIN_MS", "20".to_owned()),
        ("INLET_PUBLISH__RETRY_MAX_MS", "200".to_owned()),
        (
            "INLET_PUBLISH_TOKEN",
            inlet_testkit::access::PUBLISH_TOKEN.to_owned(),
        ),
        (
            "INLET_ADMIN_TOKEN",
            inlet_testkit::access::ADMIN_TOKEN.to_owned(),
        ),
    ];
    pairs.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    let config: FormsConfig = load(&ConfigSource::from_pairs(pairs)).expect("forms config");
    let app = Application::build(config).await.expect("forms builds");
    let port = app.port();
    let server = Running::spawn(|stopped| app.run_until_stopped(stopped.wait()));
    TestForms {
        port,
        _data: data,
        _server: server,
    }
}

impl TestForms {
    pub async fn post_form(&self, body: &str) -> reqwest::Response {
        inlet_testkit::http::client()
            .post(format!("http://127.0.0.1:{}/", self.port))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_owned())
            .send()
            .await
            .unwrap()
    }

    pub async fn post_json(&self, body: String) -> reqwest::Response {
        inlet_testkit::http::client()
            .post(format!("http://127.0.0.1:{}/", self.port))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// The value of one of the forms service's counters.
    pub async fn counter(&self, name: &str) -> f64 {
        let text = inlet_testkit::http::get_text_as_admin(&format!(
            "http://127.0.0.1:{}/metrics",
            self.port
        ))
        .await;
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .map_or(0.0, |v| v.parse().unwrap())
    }
}

#[tokio::test]
async fn a_form_posted_while_the_gateway_is_down_arrives_once_it_starts() {
    // A free port nobody listens on yet: the gateway comes up on it later.
    let grpc_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let forms = spawn_forms(&format!("http://127.0.0.1:{grpc_port}")).await;
    let res = forms.post_form("name=while+down&city=Lisbon").await;
    assert_eq!(res.status(), 200, "forms answers without the gateway");

    let grpc_listen = format!("127.0.0.1:{grpc_port}");
    let gw = spawn_gateway(&[("INLET_GRPC_LISTEN", &grpc_listen)]).await;
    // From the start of the feed: the event arrives by replay or live.
    let (mut socket, _) = gw.subscribe("?since=0").await;
    let frame = next_json(&mut socket).await;
    assert_eq!(frame["kind"], "form_submitted");
    assert_eq!(frame["source"], "inlet-forms");
    assert_eq!(
        frame["data"]["field_names"],
        serde_json::json!(["name", "city"])
    );
    assert_eq!(frame["sequence"], 1);

    // And a post made now arrives live, once.
    assert_eq!(forms.post_form("name=live").await.status(), 200);
    let live = next_json(&mut socket).await;
    assert_eq!(live["sequence"], 2);
    assert_eq!(live["data"]["field_names"], serde_json::json!(["name"]));
}

#[tokio::test]
async fn a_post_with_a_huge_field_name_is_announced_cut_and_does_not_stop_the_feed() {
    let gw = spawn_gateway(&[]).await;
    let forms = spawn_forms(&gw.grpc_url()).await;
    let (mut socket, _) = gw.subscribe("").await;
    // A 1.2 MB key: more than the gateway's 1 MiB ingest takes whole.
    let key = "k".repeat(1_200_000);
    let res = forms.post_json(format!(r#"{{"{key}":1,"after":2}}"#)).await;
    assert_eq!(res.status(), 200);
    let cut = next_json(&mut socket).await;
    assert_eq!(cut["truncated"], true);
    let names = cut["data"]["field_names"].as_array().unwrap();
    assert_eq!(names[0].as_str().unwrap(), "k".repeat(256));
    assert_eq!(names[1], "after");
    // The next post's event is not held behind it.
    assert_eq!(forms.post_form("name=next").await.status(), 200);
    let next = next_json(&mut socket).await;
    assert_eq!(next["data"]["field_names"], serde_json::json!(["name"]));
    assert!(next.get("truncated").is_none(), "{next}");
    assert_eq!(
        forms
            .counter("inlet_publisher_events_truncated_total")
            .await,
        1.0
    );
}

#[tokio::test]
async fn an_event_the_gateway_refuses_is_dropped_and_counted_not_retried_for_ever() {
    // An ingest that takes less than the publisher sends: a misconfiguration
    // the publisher must survive.
    let gw = spawn_gateway(&[("INLET_EVENTS__MAX_EVENT_BYTES", "8192")]).await;
    let forms = spawn_forms_with(
        &gw.grpc_url(),
        &[("INLET_PUBLISH__MAX_EVENT_BYTES", "65536")],
    )
    .await;
    let (mut socket, _) = gw.subscribe("").await;
    let names: Vec<String> = (0..2000).map(|i| format!("\"f{i}\":1")).collect();
    let res = forms.post_json(format!("{{{}}}", names.join(","))).await;
    assert_eq!(res.status(), 200);
    assert_eq!(forms.post_form("name=after").await.status(), 200);
    let next = next_json(&mut socket).await;
    assert_eq!(next["data"]["field_names"], serde_json::json!(["name"]));
    assert_eq!(
        forms.counter("inlet_publisher_events_refused_total").await,
        1.0
    );
}

#[tokio::test]
async fn a_batch_is_sequenced_in_order_and_only_its_wrong_event_is_refused() {
    use inlet_common::access::{PublishToken, Secret};
    use inlet_common::publish::{GrpcTransport, Outgoing, SendError, Transport};

    let gw = spawn_gateway(&[]).await;
    let (mut socket, _) = gw.subscribe("").await;
    let token = PublishToken::Value(Secret::new(inlet_testkit::access::PUBLISH_TOKEN));
    let mut transport = GrpcTransport::new(
        &gw.grpc_url(),
        std::time::Duration::from_secs(5),
        Some(token),
        64 * 1024,
    )
    .unwrap();
    let outgoing = |event| Outgoing {
        event,
        context: opentelemetry::Context::new(),
    };
    let mut batch: Vec<Outgoing> = (0..5)
        .map(|i| {
            outgoing(crate::helpers::form_event(
                &format!("batched-{i}"),
                &["name"],
            ))
        })
        .collect();
    // One without a kind: wrong in itself.
    batch.insert(2, outgoing(inlet_proto::events::v1::Event::default()));
    let answers = transport.send_batch(&batch).await;
    assert_eq!(answers.len(), 6);
    assert!(
        matches!(answers[2], Err(SendError::Refused(_))),
        "{answers:?}"
    );
    assert_eq!(
        answers.iter().filter(|a| a.is_ok()).count(),
        5,
        "{answers:?}"
    );
    for i in 0..5 {
        let frame = next_json(&mut socket).await;
        assert_eq!(frame["id"], format!("batched-{i}"));
        assert_eq!(frame["sequence"], i + 1);
    }
}
