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

pub fn spawn_forms(gateway_url: &str) -> TestForms {
    let data = tempfile::tempdir().unwrap();
    let pairs = [
        ("INLET_LISTEN", "127.0.0.1:0".to_owned()),
        ("INLET_DATA_DIR", data.path().display().to_string()),
        ("INLET_GATEWAY_URL", gateway_url.to_owned()),
        ("INLET_PUBLISH__RETRY_MIN_MS", "20".to_owned()),
        ("INLET_PUBLISH__RETRY_MAX_MS", "200".to_owned()),
    ];
    let config: FormsConfig = load(&ConfigSource::from_pairs(pairs)).expect("forms config");
    let app = Application::build(config).expect("forms builds");
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
}

#[tokio::test]
async fn a_form_posted_while_the_gateway_is_down_arrives_once_it_starts() {
    // A free port nobody listens on yet: the gateway comes up on it later.
    let grpc_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let forms = spawn_forms(&format!("http://127.0.0.1:{grpc_port}"));
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
