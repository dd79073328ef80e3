//! The compose stack, driven from the host as a user drives it. Run by
//! `tests/e2e/run.sh`, which builds the images, starts the stack, waits for
//! every healthcheck and tells this test where everything is:
//!
//! - `INLET_E2E_FORMS_URL`, `INLET_E2E_UPLOADS_URL`, `INLET_E2E_GATEWAY_URL`
//!   (`ws://`), `INLET_E2E_SMTP_PORT`, `INLET_E2E_JAEGER_URL`: the published ports;
//! - `COMPOSE_PROJECT_NAME`, `COMPOSE_FILE`: the stack, for `docker-compose`;
//! - `INLET_E2E_COMPOSE`: the compose program (default `docker-compose`).

use std::process::Command;
use std::time::Duration;

use inlet_e2e::jaeger_api::{Envelope, Trace};

use crate::http::get_json;
use inlet_testkit::WAIT;

/// How long spans may take to reach Jaeger: the services export in batches
/// every 5 s (the OpenTelemetry default), and a restart flushes.
const TRACE_WAIT: Duration = Duration::from_secs(40);

/// Where the stack is, from the environment `run.sh` sets.
struct Stack {
    forms: String,
    uploads: String,
    gateway: String,
    smtp_port: u16,
    jaeger: String,
    project: String,
    /// `docker-compose`, or `docker compose`: a program and its first words.
    compose: Vec<String>,
    http: reqwest::Client,
}

impl Stack {
    fn from_env() -> Self {
        let var = |name: &str| {
            std::env::var(name)
                .unwrap_or_else(|_| panic!("{name} is not set: run tests/e2e/run.sh"))
        };
        Self {
            forms: var("INLET_E2E_FORMS_URL"),
            uploads: var("INLET_E2E_UPLOADS_URL"),
            gateway: var("INLET_E2E_GATEWAY_URL"),
            smtp_port: var("INLET_E2E_SMTP_PORT").parse().expect("a port"),
            jaeger: var("INLET_E2E_JAEGER_URL"),
            project: var("COMPOSE_PROJECT_NAME"),
            compose: std::env::var("INLET_E2E_COMPOSE")
                .unwrap_or_else(|_| "docker-compose".into())
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            http: reqwest::Client::builder().timeout(WAIT).build().unwrap(),
        }
    }

    /// Runs `program ARGS` on a blocking thread, bounded in time; its stdout,
    /// or a panic with its stderr.
    async fn run(&self, program: &[&str], args: &[&str]) -> String {
        let mut cmd = Command::new(program[0]);
        cmd.args(&program[1..]).args(args);
        let what = format!("{} {}", program.join(" "), args.join(" "));
        let output =
            tokio::time::timeout(WAIT * 3, tokio::task::spawn_blocking(move || cmd.output()))
                .await
                .unwrap_or_else(|_| panic!("{what} did not finish in time"))
                .unwrap()
                .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
        assert!(
            output.status.success(),
            "{what} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    async fn compose(&self, args: &[&str]) -> String {
        let program: Vec<&str> = self.compose.iter().map(String::as_str).collect();
        self.run(&program, args).await
    }

    /// Lists `/data/uploads` as the forms container sees it on the volume.
    async fn uploads_seen_by_forms(&self) -> Vec<String> {
        self.compose(&["exec", "-T", "forms", "ls", "-A", "/data/uploads"])
            .await
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// The submissions file as the forms container sees it on the volume.
    async fn stored_records(&self) -> Vec<serde_json::Value> {
        self.compose(&[
            "exec",
            "-T",
            "forms",
            "cat",
            "/data/forms/submissions.jsonl",
        ])
        .await
        .lines()
        .map(|line| serde_json::from_str(line).expect("each stored line is JSON"))
        .collect()
    }

    async fn post(&self, content_type: &str, body: String, traceparent: &str) -> String {
        let res = self
            .http
            .post(&self.forms)
            .header("content-type", content_type)
            .header("traceparent", traceparent)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        res.text().await.unwrap()
    }

    /// Waits for the trace `trace_id` in Jaeger to hold a span named `operation`.
    async fn wait_for_trace(&self, trace_id: &str, operation: &str) -> Trace {
        self.wait_for_trace_where(trace_id, operation, |t| t.span_named(operation).is_some())
            .await
    }

    /// Waits for the trace `trace_id` in Jaeger to satisfy `complete`
    /// (spans from several services arrive in batches of their own);
    /// `what` says what was awaited, for the failure message.
    async fn wait_for_trace_where(
        &self,
        trace_id: &str,
        what: &str,
        complete: impl Fn(&Trace) -> bool,
    ) -> Trace {
        let url = format!("{}/api/traces/{trace_id}", self.jaeger);
        let deadline = tokio::time::Instant::now() + TRACE_WAIT;
        loop {
            let res = self.http.get(&url).send().await.unwrap();
            if res.status() == 200 {
                let mut found: Envelope<Vec<Trace>> = res.json().await.unwrap();
                if let Some(trace) = found.data.pop() {
                    if complete(&trace) {
                        return trace;
                    }
                }
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "trace {trace_id} with {what} did not reach Jaeger in {TRACE_WAIT:?}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Waits until forms answers `/readyz` with 200 again.
    async fn wait_until_forms_ready(&self) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let ready = self.http.get(format!("{}/readyz", self.forms)).send().await;
            if ready.is_ok_and(|r| r.status() == 200) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "forms was not ready again within {WAIT:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// A fresh W3C trace id and span id, as a client would start a trace.
fn new_trace() -> (String, String) {
    let trace_id = uuid::Uuid::now_v7().simple().to_string();
    let span_id = uuid::Uuid::now_v7().simple().to_string()[16..].to_owned();
    (trace_id, span_id)
}

fn record_with_nonce<'a>(
    records: &'a [serde_json::Value],
    nonce: &str,
) -> Vec<&'a serde_json::Value> {
    records
        .iter()
        .filter(|r| r["fields"]["nonce"] == nonce)
        .collect()
}

#[tokio::test]
#[ignore = "needs the compose stack: run tests/e2e/run.sh"]
async fn forms_stores_on_the_volume_traces_to_jaeger_and_survives_a_restart() {
    let stack = Stack::from_env();
    let form_nonce = uuid::Uuid::now_v7().simple().to_string();
    let json_nonce = uuid::Uuid::now_v7().simple().to_string();

    // A form post and a JSON post, each starting its own client trace.
    let (form_trace, form_parent) = new_trace();
    let answer = stack
        .post(
            "application/x-www-form-urlencoded",
            format!("userinput1=hello&nonce={form_nonce}"),
            &format!("00-{form_trace}-{form_parent}-01"),
        )
        .await;
    assert!(
        answer.starts_with("You Posted: ") && answer.contains(&form_nonce),
        "{answer}"
    );
    let (json_trace, json_parent) = new_trace();
    let answer = stack
        .post(
            "application/json",
            format!(r#"{{"userinput1":"hi","nonce":"{json_nonce}"}}"#),
            &format!("00-{json_trace}-{json_parent}-01"),
        )
        .await;
    assert!(
        answer.starts_with(r#"{"data": "#) && answer.contains(&json_nonce),
        "{answer}"
    );

    // Both records lie on the named volume, as the container sees it.
    let records = stack.stored_records().await;
    let form_record = record_with_nonce(&records, &form_nonce);
    let json_record = record_with_nonce(&records, &json_nonce);
    assert_eq!(form_record.len(), 1, "{records:?}");
    assert_eq!(json_record.len(), 1, "{records:?}");
    assert_eq!(
        form_record[0]["content_type"],
        "application/x-www-form-urlencoded"
    );
    assert_eq!(json_record[0]["fields"]["userinput1"], "hi");
    let container = stack.compose(&["ps", "-q", "forms"]).await;
    let mounts: Vec<serde_json::Value> = serde_json::from_str(
        &stack
            .run(
                &["docker"],
                &["inspect", "--format", "{{json .Mounts}}", container.trim()],
            )
            .await,
    )
    .unwrap();
    let data = mounts
        .iter()
        .find(|m| m["Destination"] == "/data")
        .expect("/data is mounted");
    assert_eq!(data["Type"], "volume", "{data}");
    assert_eq!(data["Name"], format!("{}_data", stack.project), "{data}");
    let uid = stack.compose(&["exec", "-T", "forms", "id", "-u"]).await;
    assert_ne!(uid.trim(), "0", "forms must not run as root");

    // Each request is one trace in Jaeger: the client's trace continued, the
    // server span under the client's span, the stored span under the server span.
    for (trace_id, parent, record, content_type) in [
        (
            &form_trace,
            &form_parent,
            form_record[0],
            "application/x-www-form-urlencoded",
        ),
        (
            &json_trace,
            &json_parent,
            json_record[0],
            "application/json",
        ),
    ] {
        let trace = stack
            .wait_for_trace(trace_id, "forms.submission.stored")
            .await;
        let stored = trace.span_named("forms.submission.stored").unwrap();
        assert_eq!(trace.service_of(stored), Some("inlet-forms"));
        assert_eq!(stored.tag("forms.submission.id"), Some(&record["id"]));
        assert_eq!(
            stored.tag("forms.submission.content_type"),
            Some(&serde_json::json!(content_type))
        );
        let server = trace
            .span(stored.parent_span_id().expect("stored span has a parent"))
            .expect("the parent is in the same trace");
        assert_eq!(trace.service_of(server), Some("inlet-forms"));
        assert_eq!(
            server.tag("http.request.method"),
            Some(&serde_json::json!("POST"))
        );
        assert_eq!(server.tag("http.route"), Some(&serde_json::json!("/")));
        assert_eq!(
            server.parent_span_id(),
            Some(parent.as_str()),
            "traceparent continued"
        );
    }
    // And the service is listed with its traces, as the Jaeger UI finds it.
    let listed: Envelope<Vec<Trace>> = get_json(&stack.http, &format!(
            "{}/api/traces?service=inlet-forms&operation=forms.submission.stored&limit=100&lookback=1h",
            stack.jaeger
        )).await;
    for trace_id in [&form_trace, &json_trace] {
        assert!(
            listed.data.iter().any(|t| &t.trace_id == trace_id),
            "{trace_id} missing from /api/traces?service=inlet-forms"
        );
    }

    // A restart keeps every record.
    stack.compose(&["restart", "forms"]).await;
    stack.wait_until_forms_ready().await;
    let records = stack.stored_records().await;
    assert_eq!(record_with_nonce(&records, &form_nonce).len(), 1);
    assert_eq!(record_with_nonce(&records, &json_nonce).len(), 1);
    let listed: serde_json::Value = get_json(
        &stack.http,
        &format!("{}/submissions?limit=100", stack.forms),
    )
    .await;
    let ids: Vec<&serde_json::Value> = listed["submissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["id"])
        .collect();
    assert!(ids.contains(&&form_record[0]["id"]), "{listed}");
    assert!(ids.contains(&&json_record[0]["id"]), "{listed}");
}

#[tokio::test]
#[ignore = "needs the compose stack: run tests/e2e/run.sh"]
async fn uploads_stores_on_the_shared_volume_traces_and_stops_without_a_partial_file() {
    let stack = Stack::from_env();
    let nonce = uuid::Uuid::now_v7().simple().to_string();

    // A multipart upload of two files and a text field, in one client trace.
    let (trace_id, parent) = new_trace();
    let first = format!("first file {nonce}\n").repeat(1000);
    let second = format!("second file {nonce}\n");
    let form = reqwest::multipart::Form::new()
        .text("userinput1", "hello")
        .part(
            "userfile1",
            reqwest::multipart::Part::text(first.clone()).file_name("first.txt"),
        )
        .part(
            "userfile2",
            reqwest::multipart::Part::text(second.clone()).file_name("second.txt"),
        );
    let res = stack
        .http
        .post(&stack.uploads)
        .header("accept", "application/json")
        .header("traceparent", format!("00-{trace_id}-{parent}-01"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let answer: serde_json::Value = res.json().await.unwrap();
    let mut expected = vec![
        (
            answer["stored"][0]["name"].as_str().unwrap().to_owned(),
            first,
        ),
        (
            answer["stored"][1]["name"].as_str().unwrap().to_owned(),
            second,
        ),
    ];

    // And a PUT.
    let put_body = format!("put body {nonce}");
    let res = stack
        .http
        .put(&stack.uploads)
        .header("x-field", "userfile1")
        .header("x-filename", "put.txt")
        .header("accept", "application/json")
        .body(put_body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let answer: serde_json::Value = res.json().await.unwrap();
    expected.push((
        answer["stored"][0]["name"].as_str().unwrap().to_owned(),
        put_body,
    ));

    // Each file is on the shared volume byte for byte, as another service's
    // container sees it.
    for (name, content) in &expected {
        let on_volume = stack
            .compose(&[
                "exec",
                "-T",
                "forms",
                "cat",
                &format!("/data/uploads/{name}"),
            ])
            .await;
        assert_eq!(&on_volume, content, "{name}");
    }

    // The upload is one trace in Jaeger: a stored-file span per file under
    // the server span, which continues the client's trace.
    let trace = stack.wait_for_trace(&trace_id, "uploads.file.stored").await;
    let stored: Vec<_> = trace
        .spans
        .iter()
        .filter(|s| s.operation_name == "uploads.file.stored")
        .collect();
    assert_eq!(stored.len(), 2, "one span per file");
    for span in &stored {
        assert_eq!(trace.service_of(span), Some("inlet-uploads"));
        let server = trace.span(span.parent_span_id().unwrap()).unwrap();
        assert_eq!(server.tag("http.route"), Some(&serde_json::json!("/")));
        assert_eq!(server.parent_span_id(), Some(parent.as_str()));
    }

    // Stopping the service in the middle of a large upload keeps nothing of it.
    let (sent_enough, mut started) = tokio::sync::mpsc::channel::<()>(1);
    let chunk = vec![b'z'; 1 << 20];
    let body = futures_util::stream::unfold(0usize, move |sent| {
        let (chunk, sent_enough) = (chunk.clone(), sent_enough.clone());
        async move {
            if sent == 8 {
                // Hold the upload open, unfinished, until the stop cuts it.
                let _ = sent_enough.send(()).await;
                std::future::pending::<()>().await;
            }
            Some((Ok::<_, std::io::Error>(chunk), sent + 1))
        }
    });
    let upload = tokio::spawn(
        stack
            .http
            .put(&stack.uploads)
            .header("x-field", "f")
            .header("x-filename", format!("interrupted-{nonce}.bin"))
            .header("content-length", (64u64 << 20).to_string())
            .body(reqwest::Body::wrap_stream(body))
            .send(),
    );
    started.recv().await.expect("the upload is under way");
    // The server is writing it: a temporary file is on the volume.
    let deadline = tokio::time::Instant::now() + WAIT;
    while !stack
        .uploads_seen_by_forms()
        .await
        .iter()
        .any(|n| n.starts_with(".incoming-"))
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no temporary file appeared for the interrupted upload"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    stack.compose(&["stop", "uploads"]).await;
    let left = stack.uploads_seen_by_forms().await;
    assert!(
        !left
            .iter()
            .any(|n| n.contains("interrupted") || n.starts_with(".incoming-")),
        "{left:?}"
    );
    upload.abort();
    stack.compose(&["start", "uploads"]).await;
}

/// The span of `service` named `operation` in `trace`, if there is one.
fn find_span<'t>(
    trace: &'t Trace,
    service: &str,
    operation: &str,
) -> Option<&'t inlet_e2e::jaeger_api::Span> {
    trace
        .spans
        .iter()
        .find(|s| s.operation_name == operation && trace.service_of(s) == Some(service))
}

/// The span of `service` named `operation` in `trace`.
fn span_of<'t>(
    trace: &'t Trace,
    service: &str,
    operation: &str,
) -> &'t inlet_e2e::jaeger_api::Span {
    find_span(trace, service, operation)
        .unwrap_or_else(|| panic!("no {service} {operation} span in the trace"))
}

/// Whether `trace` already holds the spans of a publish from `service`
/// through the gateway.
fn holds_the_publish(trace: &Trace, service: &str) -> bool {
    find_span(trace, service, "gateway.publish").is_some()
        && find_span(trace, "inlet-gateway", "gateway.publish").is_some()
        && find_span(trace, "inlet-gateway", "gateway.deliver").is_some()
}

/// Checks that `trace` runs from `service`'s publish client span into the
/// gateway's publish and deliver spans.
fn assert_published_through_the_gateway(trace: &Trace, service: &str) {
    let client = span_of(trace, service, "gateway.publish");
    let server = span_of(trace, "inlet-gateway", "gateway.publish");
    let deliver = span_of(trace, "inlet-gateway", "gateway.deliver");
    assert_eq!(server.parent_span_id(), Some(client.span_id.as_str()));
    assert_eq!(deliver.parent_span_id(), Some(server.span_id.as_str()));
}

#[tokio::test]
#[ignore = "needs the compose stack: run tests/e2e/run.sh"]
async fn the_gateway_feeds_each_arrival_once_joins_its_trace_and_is_not_needed_to_store() {
    use inlet_testkit::ws::{connect, next_json, next_text, send_text};
    let stack = Stack::from_env();
    let nonce = uuid::Uuid::now_v7().simple().to_string();
    let mut feed = connect(&format!("{}/events", stack.gateway)).await;
    assert_eq!(next_json(&mut feed).await["type"], "subscribed");

    // The seed's socket answers through the published port.
    let mut chat = connect(&format!("{}/", stack.gateway)).await;
    send_text(&mut chat, "Hello").await;
    assert_eq!(next_text(&mut chat).await, "Websockets!");

    // A form post and an upload, each in a client trace of its own.
    let (form_trace, form_parent) = new_trace();
    stack
        .post(
            "application/x-www-form-urlencoded",
            format!("feed_{nonce}=1"),
            &format!("00-{form_trace}-{form_parent}-01"),
        )
        .await;
    let (upload_trace, upload_parent) = new_trace();
    let res = stack
        .http
        .put(&stack.uploads)
        .header("x-field", "userfile1")
        .header("x-filename", format!("feed-{nonce}.txt"))
        .header(
            "traceparent",
            format!("00-{upload_trace}-{upload_parent}-01"),
        )
        .body("fed")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let form = next_json(&mut feed).await;
    assert_eq!(form["kind"], "form_submitted", "{form}");
    assert_eq!(form["source"], "inlet-forms");
    assert_eq!(
        form["data"]["field_names"],
        serde_json::json!([format!("feed_{nonce}")])
    );
    let file = next_json(&mut feed).await;
    assert_eq!(file["kind"], "file_stored", "{file}");
    assert_eq!(file["source"], "inlet-uploads");
    assert_eq!(file["data"]["original_name"], format!("feed-{nonce}.txt"));
    assert_eq!(file["data"]["size"], 3);
    assert_eq!(
        file["sequence"].as_u64(),
        form["sequence"].as_u64().map(|s| s + 1)
    );
    // Once each: the next event is a marker posted now, not a repeat.
    let (marker_trace, marker_parent) = new_trace();
    stack
        .post(
            "application/x-www-form-urlencoded",
            format!("marker_{nonce}=1"),
            &format!("00-{marker_trace}-{marker_parent}-01"),
        )
        .await;
    let marker = next_json(&mut feed).await;
    assert_eq!(
        marker["data"]["field_names"],
        serde_json::json!([format!("marker_{nonce}")])
    );

    // Each arrival is one trace from the storing service into the gateway.
    for (trace_id, service) in [
        (&form_trace, "inlet-forms"),
        (&upload_trace, "inlet-uploads"),
    ] {
        let trace = stack
            .wait_for_trace_where(trace_id, "the publish spans", |t| {
                holds_the_publish(t, service)
            })
            .await;
        assert_published_through_the_gateway(&trace, service);
    }

    // With the gateway stopped, a post is still stored and answered; the
    // feed's subscribers were told it was going away.
    drop(feed);
    stack.compose(&["stop", "gateway"]).await;
    assert_eq!(inlet_testkit::ws::close_code(&mut chat).await.0, 1001);
    let (trace, parent) = new_trace();
    let answer = stack
        .post(
            "application/x-www-form-urlencoded",
            format!("while_down_{nonce}=1"),
            &format!("00-{trace}-{parent}-01"),
        )
        .await;
    assert!(answer.contains(&format!("while_down_{nonce}")), "{answer}");
    stack.compose(&["start", "gateway"]).await;
}

#[tokio::test]
#[ignore = "needs the compose stack: run tests/e2e/run.sh"]
async fn smtp_delivers_onto_the_shared_volume_announces_it_and_joins_a_senders_trace() {
    use inlet_testkit::ws::{connect, next_json};
    use lettre::message::Mailbox;
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
    let stack = Stack::from_env();
    let nonce = uuid::Uuid::now_v7().simple().to_string();
    let mut feed = connect(&format!("{}/events?topics=mail", stack.gateway)).await;
    assert_eq!(next_json(&mut feed).await["type"], "subscribed");

    // A real client, from the host, to two mailboxes.
    let email = Message::builder()
        .from("me@me.com".parse::<Mailbox>().unwrap())
        .to("you@example.com".parse::<Mailbox>().unwrap())
        .to("another@localhost".parse::<Mailbox>().unwrap())
        .subject(format!("e2e {nonce}"))
        .body(format!("hello from the host {nonce}\r\n"))
        .unwrap();
    let on_the_wire = [email.formatted().as_slice(), b"\r\n"].concat();
    let mailer = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(stack.smtp_port)
        .build();
    mailer.send(email).await.expect("the stack takes the mail");

    // Both copies, byte for byte, as another service's container sees them.
    for user in ["you", "another"] {
        let listing = stack
            .compose(&[
                "exec",
                "-T",
                "uploads",
                "ls",
                &format!("/data/mail/{user}/new"),
            ])
            .await;
        let mut found = false;
        for name in listing.lines() {
            let stored = stack
                .compose(&[
                    "exec",
                    "-T",
                    "uploads",
                    "cat",
                    &format!("/data/mail/{user}/new/{name}"),
                ])
                .await;
            if stored.contains(&nonce) {
                assert!(stored.as_bytes().ends_with(&on_the_wire), "{stored}");
                found = true;
            }
        }
        assert!(found, "no mail for {user} in {listing}");
    }
    let event = next_json(&mut feed).await;
    assert_eq!(event["kind"], "mail_received", "{event}");
    assert_eq!(event["source"], "inlet-smtp");
    assert_eq!(
        event["data"]["recipients"],
        serde_json::json!(["you@example.com", "another@localhost"])
    );

    // Nobody's mailbox: 550.
    let codes = inlet_testkit::smtp::codes(
        stack.smtp_port,
        &[
            "helo host",
            "mail from:<me@me.com>",
            "rcpt to:<nobody@example.com>",
            "quit",
        ],
    )
    .await;
    assert_eq!(codes, [220, 250, 250, 550, 221]);

    // A mail that carries a traceparent is stored in that trace, and its
    // event reaches the gateway in it.
    let (trace_id, parent) = new_trace();
    let message = format!(
        "traceparent: 00-{trace_id}-{parent}-01\r\nSubject: traced {nonce}\r\n\r\ntraced\r\n."
    );
    let codes = inlet_testkit::smtp::codes(
        stack.smtp_port,
        &[
            "helo host",
            "mail from:<me@me.com>",
            "rcpt to:<you@example.com>",
            "data",
            &message,
            "quit",
        ],
    )
    .await;
    assert_eq!(codes, [220, 250, 250, 250, 354, 250, 221]);
    assert_eq!(next_json(&mut feed).await["kind"], "mail_received");
    let trace = stack
        .wait_for_trace_where(&trace_id, "the smtp and gateway spans", |t| {
            find_span(t, "inlet-smtp", "smtp.message").is_some()
                && holds_the_publish(t, "inlet-smtp")
        })
        .await;
    let stored = span_of(&trace, "inlet-smtp", "smtp.message");
    assert_eq!(stored.parent_span_id(), Some(parent.as_str()));
    assert_published_through_the_gateway(&trace, "inlet-smtp");
}
