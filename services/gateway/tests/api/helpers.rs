//! Starting the gateway in-process and talking to it.

use inlet_common::config::{load, ConfigSource};
use inlet_gateway::config::GatewayConfig;
use inlet_gateway::startup::{Application, StartupError};
use inlet_proto::events::v1::event::Kind;
use inlet_proto::events::v1::event_ingest_client::EventIngestClient;
use inlet_proto::events::v1::{Event, FormSubmitted, PublishRequest};
use inlet_testkit::server::Running;
use inlet_testkit::ws::{self, Socket};
use inlet_testkit::WAIT;

/// What [`add_publish_token`] is, as a type.
pub type AddToken = fn(tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status>;

/// An ingest client that presents the test publish secret.
pub type IngestClient = EventIngestClient<
    tonic::service::interceptor::InterceptedService<tonic::transport::Channel, AddToken>,
>;

/// Adds `authorization: Bearer <PUBLISH_TOKEN>` to a call.
pub fn add_publish_token(
    mut request: tonic::Request<()>,
) -> Result<tonic::Request<()>, tonic::Status> {
    let value = format!("Bearer {}", inlet_testkit::access::PUBLISH_TOKEN);
    request
        .metadata_mut()
        .insert("authorization", value.parse().expect("ASCII"));
    Ok(request)
}

/// A gateway running in this process on free ports.
pub struct TestGateway {
    pub port: u16,
    pub grpc_port: u16,
    server: Running<StartupError>,
}

/// Starts a gateway with default config plus `extra` `INLET_*` pairs.
pub async fn spawn_gateway(extra: &[(&str, &str)]) -> TestGateway {
    let mut pairs = vec![
        ("INLET_LISTEN".to_string(), "127.0.0.1:0".to_string()),
        ("INLET_GRPC_LISTEN".to_string(), "127.0.0.1:0".to_string()),
    ];
    pairs.extend(
        inlet_testkit::access::CREDENTIAL_ENV
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    inlet_testkit::log::init();
    let config: GatewayConfig =
        load(&ConfigSource::from_pairs(pairs)).expect("test config is valid");
    let app = Application::build(config).await.expect("gateway builds");
    let (port, grpc_port) = (app.port(), app.grpc_port());
    let server = Running::spawn(|stopped| app.run_until_stopped(stopped.wait()));
    TestGateway {
        port,
        grpc_port,
        server,
    }
}

impl TestGateway {
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://127.0.0.1:{}{path}", self.port)
    }

    /// `http://127.0.0.1:GRPC_PORT`, for `INLET_GATEWAY_URL`.
    pub fn grpc_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.grpc_port)
    }

    /// Opens `path` with the test admin token (which `/events` needs).
    pub async fn connect(&self, path: &str) -> Socket {
        ws::connect_as_admin(&self.ws_url(path)).await
    }

    /// Subscribes to `/events` + `query` and checks the `subscribed` frame.
    pub async fn subscribe(&self, query: &str) -> (Socket, serde_json::Value) {
        let mut socket = self.connect(&format!("/events{query}")).await;
        let hello = ws::next_json(&mut socket).await;
        assert_eq!(hello["type"], "subscribed", "{hello}");
        (socket, hello)
    }

    /// A gRPC client for the ingest that presents the test publish secret.
    pub async fn ingest(&self) -> IngestClient {
        EventIngestClient::with_interceptor(
            self.ingest_channel().await,
            add_publish_token as AddToken,
        )
    }

    /// A connection to the ingest, with no secret of its own.
    pub async fn ingest_channel(&self) -> tonic::transport::Channel {
        let endpoint = tonic::transport::Endpoint::from_shared(self.grpc_url()).unwrap();
        tokio::time::timeout(WAIT, endpoint.connect())
            .await
            .expect("connects in time")
            .expect("the ingest accepts connections")
    }

    /// One metric's value from `/metrics` (summed over labels matching `label`).
    pub async fn metric(&self, name: &str, label: Option<(&str, &str)>) -> f64 {
        let text = inlet_testkit::http::get_text_as_admin(&self.url("/metrics")).await;
        let lines = text.lines().map(|l| Ok(l.to_owned()));
        let scrape = prometheus_parse::Scrape::parse(lines).unwrap();
        scrape
            .samples
            .iter()
            .filter(|s| s.metric == name)
            .filter(|s| label.is_none_or(|(k, v)| s.labels.get(k) == Some(v)))
            .map(|s| match s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                _ => 0.0,
            })
            .sum()
    }

    /// Waits (up to WAIT) until `metric` satisfies `pred`; gives its value.
    pub async fn wait_for_metric(
        &self,
        name: &str,
        label: Option<(&str, &str)>,
        pred: impl Fn(f64) -> bool,
    ) -> f64 {
        let deadline = tokio::time::Instant::now() + WAIT;
        let mut pause = std::time::Duration::from_millis(5);
        loop {
            let value = self.metric(name, label).await;
            if pred(value) {
                return value;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{name} stayed at {value}"
            );
            // Polling an observable value, not a timed guess.
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(std::time::Duration::from_millis(100));
        }
    }

    /// Asks the gateway to stop, as SIGTERM would, without waiting.
    pub fn begin_stop(&mut self) {
        self.server.begin_stop();
    }

    /// Stops the gateway and waits until it has.
    pub async fn stop(mut self) {
        self.server.stop().await;
    }
}

/// A form submission event with `fields` as its field names.
pub fn form_event(id: &str, fields: &[&str]) -> Event {
    Event {
        id: id.to_owned(),
        time: Some(prost_types::Timestamp {
            seconds: 1_800_000_000,
            nanos: 0,
        }),
        source: "inlet-forms".into(),
        kind: Some(Kind::FormSubmitted(FormSubmitted {
            submission_id: id.to_owned(),
            content_type: "application/x-www-form-urlencoded".into(),
            field_names: fields.iter().map(|f| f.to_string()).collect(),
            size: 10,
        })),
        ..Event::default()
    }
}

/// Publishes `event`, returning its sequence.
pub async fn publish(client: &mut IngestClient, event: Event) -> u64 {
    client
        .publish(PublishRequest { event: Some(event) })
        .await
        .expect("the gateway accepts the event")
        .into_inner()
        .sequence
}
