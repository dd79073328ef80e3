//! The compose stack, driven from the host as a user drives it. Run by
//! `tests/e2e/run.sh`, which builds the images, starts the stack, waits for
//! every healthcheck and tells this test where everything is:
//!
//! - `INLET_E2E_FORMS_URL`, `INLET_E2E_UPLOADS_URL`, `INLET_E2E_GATEWAY_URL`
//!   (`ws://`), `INLET_E2E_SMTP_PORT`, `INLET_E2E_MAIL_URL`,
//!   `INLET_E2E_INBOX_URL`, `INLET_E2E_JAEGER_URL`: the published ports;
//! - `INLET_E2E_OTLP_ENDPOINT`: Jaeger's OTLP port, for the host's `inlet --trace`;
//! - `COMPOSE_PROJECT_NAME`, `COMPOSE_FILE`: the stack, for `docker-compose`;
//! - `INLET_E2E_COMPOSE`: the compose program (default `docker-compose`).
//!
//! The stack is driven with the `inlet` CLI built for the host wherever it
//! has the command, as a user would; a raw test client is used only for
//! what the CLI does not show (a close code, an upload held half-sent).

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use inlet_e2e::jaeger_api::{Envelope, Trace};

use crate::http::get_json;
use inlet_testkit::cli::{self, Follower, Run};
use inlet_testkit::process::sibling_binary;
use inlet_testkit::WAIT;

/// How long spans may take to reach Jaeger: the services export in batches
/// every 5 s (the OpenTelemetry default), and a restart flushes.
const TRACE_WAIT: Duration = Duration::from_secs(40);

/// Where the stack is, from the environment `run.sh` sets.
pub(crate) struct Stack {
    forms: String,
    uploads: String,
    gateway: String,
    smtp_port: u16,
    /// The mail API (`http://…`).
    mail: String,
    /// The web inbox (`http://…`).
    inbox: String,
    jaeger: String,
    /// Where the host's `inlet --trace` exports its spans (the Jaeger stand-in).
    otlp: String,
    /// The `inlet` binary built for the host.
    inlet: PathBuf,
    project: String,
    /// `docker-compose`, or `docker compose`: a program and its first words.
    compose: Vec<String>,
    http: reqwest::Client,
    /// `INLET_ADMIN_TOKEN` of the stack (reading needs it).
    pub(crate) token: String,
}

impl Stack {
    pub(crate) fn from_env() -> Self {
        inlet_testkit::http::install_crypto_provider();
        let var = |name: &str| {
            std::env::var(name)
                .unwrap_or_else(|_| panic!("{name} is not set: run tests/e2e/run.sh"))
        };
        Self {
            forms: var("INLET_E2E_FORMS_URL"),
            uploads: var("INLET_E2E_UPLOADS_URL"),
            gateway: var("INLET_E2E_GATEWAY_URL"),
            smtp_port: var("INLET_E2E_SMTP_PORT").parse().expect("a port"),
            mail: var("INLET_E2E_MAIL_URL"),
            inbox: var("INLET_E2E_INBOX_URL"),
            jaeger: var("INLET_E2E_JAEGER_URL"),
            otlp: var("INLET_E2E_OTLP_ENDPOINT"),
            inlet: sibling_binary("inlet"),
            project: var("COMPOSE_PROJECT_NAME"),
            compose: std::env::var("INLET_E2E_COMPOSE")
                .unwrap_or_else(|_| "docker-compose".into())
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            http: reqwest::Client::builder().timeout(WAIT).build().unwrap(),
            token: var("INLET_ADMIN_TOKEN"),
        }
    }

    /// Runs `program ARGS` on a blocking thread, bounded in time; its stdout,
    /// or a panic with its stderr.
    async fn run(&self, program: &[&str], args: &[&str]) -> String {
        self.run_with_input(program, args, b"").await
    }

    /// Like [`Stack::run`], with `input` on the program's stdin.
    async fn run_with_input(&self, program: &[&str], args: &[&str], input: &[u8]) -> String {
        let mut cmd = Command::new(program[0]);
        cmd.args(&program[1..])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let what = format!("{} {}", program.join(" "), args.join(" "));
        let input = input.to_vec();
        let running = move || {
            let mut child = cmd.spawn()?;
            child.stdin.take().expect("piped").write_all(&input)?;
            child.wait_with_output()
        };
        let output = tokio::time::timeout(WAIT * 3, tokio::task::spawn_blocking(running))
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

    pub(crate) async fn compose(&self, args: &[&str]) -> String {
        self.compose_with_input(args, b"").await
    }

    async fn compose_with_input(&self, args: &[&str], input: &[u8]) -> String {
        let program: Vec<&str> = self.compose.iter().map(String::as_str).collect();
        self.run_with_input(&program, args, input).await
    }

    /// Runs the host's `inlet args…` (its `--trace` spans go to Jaeger).
    async fn inlet(&self, args: &[&str], input: &[u8]) -> Run {
        cli::run(
            &self.inlet,
            args,
            input,
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", &self.otlp),
                ("INLET_TOKEN", &self.token),
            ],
        )
        .await
    }

    /// Like [`Stack::inlet`], for a command that must succeed.
    async fn inlet_ok(&self, args: &[&str], input: &[u8]) -> Run {
        let run = self.inlet(args, input).await;
        assert_eq!(run.code(), 0, "inlet {args:?}: {run:?}");
        run
    }

    /// `inlet get URL` (with the credential), its output parsed as JSON.
    async fn inlet_get_json(&self, url: &str) -> serde_json::Value {
        let run = self.inlet_ok(&["get", url], b"").await;
        serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("inlet get {url}: not JSON ({e}): {}", run.stdout))
    }

    /// The item of the list page at `url` (`inlet get`, with the
    /// credential) that `pick` chooses; `items` names the page's list.
    async fn listed_item(
        &self,
        url: &str,
        items: &str,
        pick: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let page = self.inlet_get_json(url).await;
        page[items]
            .as_array()
            .unwrap_or_else(|| panic!("no {items} in {page}"))
            .iter()
            .find(|item| pick(item))
            .unwrap_or_else(|| panic!("not in {items}: {page}"))
            .clone()
    }

    /// `inlet args…` in the `cli` image on the compose network
    /// (`compose run --rm -T cli args…`); its stdout.
    async fn cli_image(&self, args: &[&str], input: &[u8]) -> String {
        let mut all = vec!["run", "--rm", "-T", "cli"];
        all.extend_from_slice(args);
        self.compose_with_input(&all, input).await
    }

    /// `inlet args…` left running (`inlet events`).
    fn follow(&self, args: &[&str]) -> Follower {
        Follower::start(&self.inlet, args, &[("INLET_TOKEN", &self.token)])
    }

    /// Lists `/data/uploads` as the forms container sees it on the volume.
    async fn uploads_seen_by_forms(&self) -> Vec<String> {
        self.compose(&["exec", "-T", "forms", "ls", "-A", "/data/uploads"])
            .await
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// The journal's records as the forms container sees them on the volume.
    async fn stored_records(&self) -> Vec<serde_json::Value> {
        self.compose(&[
            "exec",
            "-T",
            "forms",
            "sh",
            "-c",
            "cat /data/forms/journal/*.jsonl",
        ])
        .await
        .lines()
        .map(|line| serde_json::from_str(line).expect("each stored line is JSON"))
        .collect()
    }

    /// `inlet post --form key=value… --trace`: the answer and the trace id.
    pub(crate) async fn post_form(&self, fields: &[String]) -> (String, String) {
        let mut args = vec!["post", self.forms.as_str(), "--trace"];
        for field in fields {
            args.extend(["--form", field.as_str()]);
        }
        let run = self.inlet_ok(&args, b"").await;
        let trace_id = run.trace_id();
        (run.stdout, trace_id)
    }

    /// `inlet put --trace` of a file named `name` holding `body`: the trace id.
    pub(crate) async fn put_traced(&self, name: &str, body: &str) -> String {
        let files = tempfile::tempdir().unwrap();
        let file = files.path().join(name);
        std::fs::write(&file, body).unwrap();
        self.inlet_ok(
            &["put", &self.uploads, file.to_str().unwrap(), "--trace"],
            b"",
        )
        .await
        .trace_id()
    }

    /// `inlet mail --trace` to you@example.com with `subject` and `body`:
    /// the trace id.
    pub(crate) async fn mail_traced(&self, subject: &str, body: &str) -> String {
        let server = format!("127.0.0.1:{}", self.smtp_port);
        self.inlet_ok(
            &[
                "mail",
                "--server",
                &server,
                "--to",
                "you@example.com",
                "--subject",
                subject,
                "--body",
                body,
                "--trace",
            ],
            b"",
        )
        .await
        .trace_id()
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
            let ready = self
                .http
                .get(format!("{}/readyz", self.forms))
                .bearer_auth(&self.token)
                .send()
                .await;
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

/// The `inlet` client's own span in `trace`: the trace's root.
fn client_span<'t>(trace: &'t Trace, operation: &str) -> &'t inlet_e2e::jaeger_api::Span {
    let client = trace
        .spans
        .iter()
        .find(|s| s.operation_name == operation && trace.service_of(s) == Some("inlet-cli"))
        .unwrap_or_else(|| panic!("no inlet-cli {operation} span in the trace"));
    assert_eq!(
        client.parent_span_id(),
        None,
        "the client's span starts the trace"
    );
    client
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

    // A form post and a JSON post with the CLI, each starting its own trace
    // at the client (`--trace`).
    let (answer, form_trace) = stack
        .post_form(&["userinput1=hello".into(), format!("nonce={form_nonce}")])
        .await;
    assert!(
        answer.starts_with("You Posted: ") && answer.contains(&form_nonce),
        "{answer}"
    );
    let json = stack
        .inlet_ok(
            &[
                "post",
                &stack.forms,
                "--json",
                &format!(r#"{{"userinput1":"hi","nonce":"{json_nonce}"}}"#),
                "--trace",
            ],
            b"",
        )
        .await;
    let answer: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(answer["data"]["nonce"], json_nonce.as_str(), "{answer}");
    let json_trace = json.trace_id();

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

    // Each request is one trace in Jaeger that starts at the client's span:
    // the server span under it, the stored span under the server span.
    for (trace_id, record, content_type) in [
        (
            &form_trace,
            form_record[0],
            "application/x-www-form-urlencoded",
        ),
        (&json_trace, json_record[0], "application/json"),
    ] {
        let trace = stack
            .wait_for_trace_where(trace_id, "the client and stored spans", |t| {
                t.span_named("forms.submission.stored").is_some()
                    && t.span_named("inlet post").is_some()
            })
            .await;
        let client = client_span(&trace, "inlet post");
        assert_eq!(
            client.tag("http.response.status_code"),
            Some(&serde_json::json!(200))
        );
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
            Some(client.span_id.as_str()),
            "the client's traceparent continued"
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
    let listing = stack
        .inlet_ok(
            &["get", &format!("{}/submissions?limit=100", stack.forms)],
            b"",
        )
        .await;
    let listed: serde_json::Value = serde_json::from_str(&listing.stdout).unwrap();
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

    // A multipart upload of two files and a text field, with the CLI, in
    // one trace that starts at the client.
    let files = tempfile::tempdir().unwrap();
    let first = format!("first file {nonce}\n").repeat(1000);
    let second = format!("second file {nonce}\n");
    let first_path = files.path().join("first.txt");
    let second_path = files.path().join("second.txt");
    std::fs::write(&first_path, &first).unwrap();
    std::fs::write(&second_path, &second).unwrap();
    let upload = stack
        .inlet_ok(
            &[
                "upload",
                &stack.uploads,
                first_path.to_str().unwrap(),
                second_path.to_str().unwrap(),
                "--field",
                "userinput1=hello",
                "-H",
                "accept: application/json",
                "--trace",
            ],
            b"",
        )
        .await;
    let trace_id = upload.trace_id();
    let answer: serde_json::Value = serde_json::from_str(&upload.stdout).unwrap();
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
    let put_path = files.path().join("put.txt");
    std::fs::write(&put_path, &put_body).unwrap();
    let put = stack
        .inlet_ok(
            &[
                "put",
                &stack.uploads,
                put_path.to_str().unwrap(),
                "--field",
                "userfile1",
                "-H",
                "accept: application/json",
            ],
            b"",
        )
        .await;
    let answer: serde_json::Value = serde_json::from_str(&put.stdout).unwrap();
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
    let trace = stack
        .wait_for_trace_where(&trace_id, "the client and stored spans", |t| {
            t.span_named("inlet upload").is_some()
                && t.spans
                    .iter()
                    .filter(|s| s.operation_name == "uploads.file.stored")
                    .count()
                    == 2
        })
        .await;
    let client = client_span(&trace, "inlet upload");
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
        assert_eq!(server.parent_span_id(), Some(client.span_id.as_str()));
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
    use inlet_testkit::ws::connect;
    let stack = Stack::from_env();
    let nonce = uuid::Uuid::now_v7().simple().to_string();
    let mut feed = stack.follow(&["events", &format!("{}/events", stack.gateway), "--json"]);
    feed.status("-- subscribed").await;

    // The seed's socket answers through the published port.
    let hello = stack
        .inlet_ok(
            &["ws", &format!("{}/", stack.gateway), "--once"],
            b"Hello\n",
        )
        .await;
    assert_eq!(hello.stdout, "Websockets!\n");
    // A socket held open, to see how it is closed when the gateway stops.
    let mut chat = connect(&format!("{}/", stack.gateway)).await;

    // A form post and an upload, each in a trace that starts at the client.
    let (_, form_trace) = stack.post_form(&[format!("feed_{nonce}=1")]).await;
    let files = tempfile::tempdir().unwrap();
    let fed = files.path().join(format!("feed-{nonce}.txt"));
    std::fs::write(&fed, "fed").unwrap();
    let upload_trace = stack
        .inlet_ok(
            &[
                "put",
                &stack.uploads,
                fed.to_str().unwrap(),
                "--field",
                "userfile1",
                "--trace",
            ],
            b"",
        )
        .await
        .trace_id();
    let form = feed.next_json().await;
    assert_eq!(form["kind"], "form_submitted", "{form}");
    assert_eq!(form["source"], "inlet-forms");
    assert_eq!(
        form["data"]["field_names"],
        serde_json::json!([format!("feed_{nonce}")])
    );
    let file = feed.next_json().await;
    assert_eq!(file["kind"], "file_stored", "{file}");
    assert_eq!(file["source"], "inlet-uploads");
    assert_eq!(file["data"]["original_name"], format!("feed-{nonce}.txt"));
    assert_eq!(file["data"]["size"], 3);
    assert_eq!(
        file["sequence"].as_u64(),
        form["sequence"].as_u64().map(|s| s + 1)
    );
    // Once each: the next event is a marker posted now, not a repeat.
    stack.post_form(&[format!("marker_{nonce}=1")]).await;
    let marker = feed.next_json().await;
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
    // sockets were told it was going away, and the follower keeps trying.
    stack.compose(&["stop", "gateway"]).await;
    assert_eq!(inlet_testkit::ws::close_code(&mut chat).await.0, 1001);
    feed.status("reconnecting").await;
    let (answer, _) = stack.post_form(&[format!("while_down_{nonce}=1")]).await;
    assert!(answer.contains(&format!("while_down_{nonce}")), "{answer}");
    // Back again: the follower reconnects by itself and gets the next arrival.
    stack.compose(&["start", "gateway"]).await;
    feed.status("-- reconnected --").await;
    stack.post_form(&[format!("after_{nonce}=1")]).await;
    let after = loop {
        // The post made while the gateway was down may be delivered first.
        let event = feed.next_json().await;
        if event["data"]["field_names"] == serde_json::json!([format!("after_{nonce}")]) {
            break event;
        }
    };
    assert_eq!(after["kind"], "form_submitted");
    assert!(feed.interrupt().await.success());
}

#[tokio::test]
#[ignore = "needs the compose stack: run tests/e2e/run.sh"]
async fn smtp_delivers_onto_the_shared_volume_announces_it_and_joins_a_senders_trace() {
    let stack = Stack::from_env();
    let nonce = uuid::Uuid::now_v7().simple().to_string();
    let server = format!("127.0.0.1:{}", stack.smtp_port);
    let mut feed = stack.follow(&[
        "events",
        &format!("{}/events", stack.gateway),
        "--topics",
        "mail",
        "--json",
    ]);
    feed.status("-- subscribed").await;

    // The CLI, from the host, to two mailboxes.
    stack
        .inlet_ok(
            &[
                "mail",
                "--server",
                &server,
                "--to",
                "you@example.com; another@localhost",
                "--subject",
                &format!("e2e {nonce}"),
                "--body",
                &format!("hello from the host {nonce}"),
            ],
            b"",
        )
        .await;

    // Both copies, as another service's container sees them.
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
            if stored.contains(&format!("Subject: e2e {nonce}")) {
                assert!(stored.contains("From: me@me.com"), "{stored}");
                assert!(
                    stored.contains("To: you@example.com, another@localhost"),
                    "{stored}"
                );
                assert!(
                    stored.contains(&format!("hello from the host {nonce}")),
                    "{stored}"
                );
                found = true;
            }
        }
        assert!(found, "no mail for {user} in {listing}");
    }
    let event = feed.next_json().await;
    assert_eq!(event["kind"], "mail_received", "{event}");
    assert_eq!(event["source"], "inlet-smtp");
    assert_eq!(
        event["data"]["recipients"],
        serde_json::json!(["you@example.com", "another@localhost"])
    );

    // Nobody's mailbox: the CLI names the recipient the server refused (550).
    let refused = stack
        .inlet(
            &[
                "mail",
                "--server",
                &server,
                "--to",
                "nobody@example.com",
                "--body",
                "x",
            ],
            b"",
        )
        .await;
    assert_eq!(refused.code(), 1, "{refused:?}");
    assert!(
        refused
            .stderr
            .contains("No mailbox for recipient \"nobody@example.com\""),
        "{}",
        refused.stderr
    );

    // A traced mail carries the client's traceparent: stored in that trace,
    // and its event reaches the gateway in it.
    let trace_id = stack
        .mail_traced(&format!("traced {nonce}"), "traced")
        .await;
    assert_eq!(feed.next_json().await["kind"], "mail_received");
    let trace = stack
        .wait_for_trace_where(&trace_id, "the client, smtp and gateway spans", |t| {
            t.span_named("inlet mail").is_some()
                && find_span(t, "inlet-smtp", "smtp.message").is_some()
                && holds_the_publish(t, "inlet-smtp")
        })
        .await;
    let client = client_span(&trace, "inlet mail");
    let stored = span_of(&trace, "inlet-smtp", "smtp.message");
    assert_eq!(stored.parent_span_id(), Some(client.span_id.as_str()));
    assert_published_through_the_gateway(&trace, "inlet-smtp");
    assert!(feed.interrupt().await.success());
}

#[tokio::test]
#[ignore = "needs the compose stack: run tests/e2e/run.sh"]
async fn the_cli_image_talks_to_every_service_from_inside_the_compose_network() {
    let stack = Stack::from_env();
    let nonce = uuid::Uuid::now_v7().simple().to_string();
    // A post to forms by its compose name.
    let answer = stack
        .cli_image(
            &[
                "post",
                "http://forms:8080/",
                "--form",
                &format!("from_cli_image_{nonce}=1"),
            ],
            b"",
        )
        .await;
    assert!(
        answer.contains(&format!("from_cli_image_{nonce}")),
        "{answer}"
    );

    // The seed's socket, at the default address the compose service sets.
    let reply = stack.cli_image(&["ws", "--once"], b"Hello\n").await;
    assert_eq!(reply, "Websockets!\n");

    // Mail, to the default server the compose service sets.
    stack
        .cli_image(
            &[
                "mail",
                "--to",
                "you@example.com",
                "--subject",
                &format!("from the cli image {nonce}"),
                "--body",
                "hi",
            ],
            b"",
        )
        .await;

    let listing = stack
        .compose(&[
            "exec",
            "-T",
            "forms",
            "grep",
            "-rl",
            &nonce,
            "/data/mail/you/new",
        ])
        .await;
    assert_eq!(listing.lines().count(), 1, "{listing}");
}

#[tokio::test]
#[ignore = "needs the compose stack: run tests/e2e/run.sh"]
async fn every_published_port_refuses_reads_without_the_credential() {
    let stack = Stack::from_env();
    let gateway_http = stack.gateway.replacen("ws://", "http://", 1);
    let reads = [
        format!("{}/submissions", stack.forms),
        format!("{}/metrics", stack.forms),
        format!("{}/readyz", stack.forms),
        format!("{}/files", stack.uploads),
        format!("{}/metrics", stack.uploads),
        format!("{gateway_http}/metrics"),
        format!("{gateway_http}/session"),
        format!("{}/messages", stack.mail),
        format!("{}/metrics", stack.mail),
        format!("{}/", stack.inbox),
        format!("{}/metrics", stack.inbox),
    ];
    for url in &reads {
        let anonymous = stack.http.get(url).send().await.unwrap();
        assert_eq!(anonymous.status(), 401, "{url} without the credential");
        assert!(
            anonymous.headers().contains_key("www-authenticate"),
            "{url}"
        );
        let wrong = stack
            .http
            .get(url)
            .bearer_auth("not-the-token-0123456789")
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), 401, "{url} with a wrong credential");
        let owner = stack
            .http
            .get(url)
            .bearer_auth(&stack.token)
            .send()
            .await
            .unwrap();
        assert_eq!(owner.status(), 200, "{url} with the credential");
    }
    let feed = format!("{}/events", stack.gateway);
    let refused = inlet_testkit::ws::try_connect(&feed, &[]).await;
    assert_eq!(refused.err().map(|s| s.as_u16()), Some(401));
    let bearer = format!("Bearer {}", stack.token);
    let mut opened = inlet_testkit::ws::try_connect(&feed, &[("authorization", &bearer)])
        .await
        .expect("the credential opens the feed");
    assert_eq!(
        inlet_testkit::ws::next_json(&mut opened).await["type"],
        "subscribed"
    );
    // Intake stays open to anyone.
    let posted = stack
        .http
        .post(&stack.forms)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("open=intake")
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 200);
}

#[tokio::test]
#[ignore = "needs the compose stack: run tests/e2e/run.sh"]
async fn a_post_an_upload_and_a_mail_read_back_through_their_apis_with_the_clients_trace() {
    let stack = Stack::from_env();
    let nonce = uuid::Uuid::now_v7().simple().to_string();
    let (_, form_trace) = stack.post_form(&[format!("read_back_{nonce}=1")]).await;
    let upload_trace = stack
        .put_traced(&format!("read-back-{nonce}.txt"), "read back")
        .await;
    let mail_trace = stack
        .mail_traced(&format!("read back {nonce}"), "read back")
        .await;

    // Each through its API, with the credential (the CLI sends INLET_TOKEN).
    let record = stack
        .listed_item(
            &format!("{}/submissions?limit=100", stack.forms),
            "submissions",
            |r| r["fields"].get(format!("read_back_{nonce}")).is_some(),
        )
        .await;
    assert_eq!(record["trace_id"], form_trace.as_str());
    let id = record["id"].as_str().unwrap();
    let one = stack
        .inlet_get_json(&format!("{}/submissions/{id}", stack.forms))
        .await;
    assert_eq!(one, record);

    let stored = stack
        .listed_item(
            &format!("{}/files?limit=100", stack.uploads),
            "files",
            |f| f["original_name"] == format!("read-back-{nonce}.txt"),
        )
        .await;
    assert_eq!(stored["trace_id"], upload_trace.as_str());
    let name = stored["name"].as_str().unwrap();
    let meta = stack
        .inlet_get_json(&format!("{}/files/{name}/meta", stack.uploads))
        .await;
    assert_eq!(meta, stored);
    let bytes = stack
        .inlet_ok(&["get", &format!("{}/files/{name}", stack.uploads)], b"")
        .await;
    assert_eq!(bytes.stdout, "read back");

    let mail = stack
        .listed_item(
            &format!("{}/messages?mailbox=you&limit=100", stack.mail),
            "messages",
            |m| m["subject"] == format!("read back {nonce}"),
        )
        .await;
    assert_eq!(mail["trace_id"], mail_trace.as_str());
    let id = mail["id"].as_str().unwrap();
    let detail = stack
        .inlet_get_json(&format!("{}/messages/{id}", stack.mail))
        .await;
    assert_eq!(detail["text"].as_str().unwrap().trim(), "read back");
    let raw = stack
        .inlet_ok(
            &["get", "--raw", &format!("{}/messages/{id}/raw", stack.mail)],
            b"",
        )
        .await;
    assert!(
        raw.stdout
            .contains(&format!("X-Inlet-Trace-Id: {mail_trace}")),
        "{}",
        raw.stdout
    );
}

#[tokio::test]
#[ignore = "needs the compose stack: run tests/e2e/run.sh"]
async fn one_item_of_each_kind_deleted_through_the_cli_is_announced_and_gone_from_its_api() {
    let stack = Stack::from_env();
    let nonce = uuid::Uuid::now_v7().simple().to_string();
    let mut feed = stack.follow(&["events", &format!("{}/events", stack.gateway), "--json"]);
    feed.status("-- subscribed").await;

    stack.post_form(&[format!("erase_{nonce}=1")]).await;
    let files = tempfile::tempdir().unwrap();
    let file = files.path().join(format!("erase-{nonce}.txt"));
    std::fs::write(&file, "erase me").unwrap();
    stack
        .inlet_ok(&["put", &stack.uploads, file.to_str().unwrap()], b"")
        .await;
    let server = format!("127.0.0.1:{}", stack.smtp_port);
    let subject = format!("erase {nonce}");
    stack
        .inlet_ok(
            &[
                "mail",
                "--server",
                &server,
                "--to",
                "you@example.com",
                "--subject",
                &subject,
                "--body",
                "erase me",
            ],
            b"",
        )
        .await;

    let submission = stack
        .listed_item(
            &format!("{}/submissions?limit=100", stack.forms),
            "submissions",
            |r| r["fields"].get(format!("erase_{nonce}")).is_some(),
        )
        .await;
    let stored = stack
        .listed_item(
            &format!("{}/files?limit=100", stack.uploads),
            "files",
            |f| f["original_name"] == format!("erase-{nonce}.txt"),
        )
        .await;
    let mail = stack
        .listed_item(
            &format!("{}/messages?mailbox=you&limit=100", stack.mail),
            "messages",
            |m| m["subject"] == subject.as_str(),
        )
        .await;
    let submission_id = submission["id"].as_str().unwrap().to_owned();
    let name = stored["name"].as_str().unwrap().to_owned();
    let message_id = mail["id"].as_str().unwrap().to_owned();
    let urls = [
        format!("{}/submissions/{submission_id}", stack.forms),
        format!("{}/files/{name}", stack.uploads),
        format!("{}/messages/{message_id}", stack.mail),
    ];
    for url in &urls {
        stack.inlet_ok(&["delete", url], b"").await;
    }

    // Each deletion on the feed (other tests' arrivals may be in between).
    let mut missing = vec![
        ("submission_deleted", "submission_id", submission_id.clone()),
        ("file_deleted", "stored_name", name.clone()),
        ("mail_deleted", "message_id", message_id.clone()),
    ];
    while !missing.is_empty() {
        let event = feed.next_json().await;
        missing.retain(|(kind, field, value)| {
            !(event["kind"] == *kind && event["data"][*field] == value.as_str())
        });
    }
    // Gone from every read: 404 is exit 4, and deleting again is too.
    for url in &urls {
        let read = stack.inlet(&["get", url], b"").await;
        assert_eq!(read.code(), 4, "{url}: {read:?}");
        assert!(read.stderr.contains("404"), "{url}: {}", read.stderr);
        let again = stack.inlet(&["delete", url], b"").await;
        assert_eq!(again.code(), 4, "{url}: {again:?}");
    }
}

/// The `href` of the inbox item page's "View trace" link.
fn trace_link(page: &str) -> String {
    let end = page
        .find(r#"" target="_blank" rel="noopener noreferrer">View trace"#)
        .unwrap_or_else(|| panic!("no trace link on the page: {page}"));
    let start = page[..end].rfind("href=\"").expect("the link has an href") + "href=\"".len();
    page[start..end].to_owned()
}

#[tokio::test]
#[ignore = "needs the compose stack: run tests/e2e/run.sh"]
async fn the_inbox_lists_a_post_an_upload_and_a_mail_each_linked_to_the_trace_jaeger_holds() {
    let stack = Stack::from_env();
    let nonce = uuid::Uuid::now_v7().simple().to_string();
    let (_, form_trace) = stack.post_form(&[format!("inbox_{nonce}=1")]).await;
    let upload_trace = stack
        .put_traced(&format!("inbox-{nonce}.txt"), "for the inbox")
        .await;
    let mail_trace = stack
        .mail_traced(&format!("inbox {nonce}"), "for the inbox")
        .await;

    // The inbox learns of them from the gateway's feed: all three come up
    // in a search for the nonce.
    let search = format!("{}/?q={nonce}", stack.inbox);
    let deadline = tokio::time::Instant::now() + WAIT;
    let page = loop {
        let page = stack
            .http
            .get(&search)
            .bearer_auth(&stack.token)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        let page = page.text().await.unwrap();
        if ["/items/submission/", "/items/file/", "/items/mail/"]
            .iter()
            .all(|kind| page.contains(kind))
        {
            break page;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the inbox did not list all three: {page}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    for (kind, trace_id) in [
        ("submission", &form_trace),
        ("file", &upload_trace),
        ("mail", &mail_trace),
    ] {
        let at = page.find(&format!("href=\"/items/{kind}/")).unwrap() + "href=\"".len();
        let path = &page[at..at + page[at..].find('"').unwrap()];
        let item = stack
            .http
            .get(format!("{}{path}", stack.inbox))
            .bearer_auth(&stack.token)
            .send()
            .await
            .unwrap();
        assert_eq!(item.status(), 200, "{path}");
        let item = item.text().await.unwrap();
        // The link opens this stack's Jaeger at the trace of the request
        // that stored the item, and Jaeger holds that trace.
        assert_eq!(
            trace_link(&item),
            format!("{}/trace/{trace_id}", stack.jaeger),
            "{kind}"
        );
        stack
            .wait_for_trace_where(trace_id, "its spans", |trace| !trace.spans.is_empty())
            .await;
    }
}
