//! The real `inlet-forms` binary: config errors, traces over OTLP, logs, SIGTERM.

use std::time::Duration;

use inlet_testkit::http::get_json_as_admin;
use inlet_testkit::otlp::OtlpReceiver;
use inlet_testkit::process::{peak_rss_kib, rss_kib, run_to_exit, ServiceProcess};
use inlet_testkit::WAIT;

const BIN: &str = env!("CARGO_BIN_EXE_inlet-forms");

/// A batch delay no test waits out: spans can only arrive through the final flush.
const NEVER: &str = "600000";

/// Runs the binary on an empty data dir with `env` added, expects it to
/// refuse its config (exit 64) and returns what it printed.
async fn refused_config(env: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut all = vec![("INLET_DATA_DIR", dir.path().to_str().unwrap())];
    all.extend_from_slice(env);
    let (status, stderr) = run_to_exit(BIN, &[], &all, WAIT).await;
    assert_eq!(status.code(), Some(64), "{env:?}: {stderr}");
    stderr
}

#[tokio::test]
async fn bad_config_exits_64_naming_every_bad_key() {
    let stderr = refused_config(&[
        ("INLET_LISTEN", "not-an-address"),
        ("INLET_LIMITS__MAX_BODY_BYTES", "lots"),
        ("INLET_HTTP__BODY_TIMEOUT_MS", "0"),
    ])
    .await;
    for key in [
        "listen (env INLET_LISTEN)",
        "limits.max_body_bytes (env INLET_LIMITS__MAX_BODY_BYTES)",
        "http.body_timeout_ms",
    ] {
        assert!(stderr.contains(key), "{key} missing from: {stderr}");
    }
}

#[tokio::test]
async fn a_json_depth_past_what_the_parser_walks_exits_64() {
    for depth in ["0", "128"] {
        let stderr = refused_config(&[("INLET_LIMITS__MAX_JSON_DEPTH", depth)]).await;
        assert!(
            stderr.contains("limits.max_json_depth") && stderr.contains("from 1 to 127"),
            "{stderr}"
        );
    }
}

#[tokio::test]
async fn a_segment_size_under_the_minimum_exits_64() {
    let stderr = refused_config(&[("INLET_STORE__SEGMENT_BYTES", "4095")]).await;
    assert!(
        stderr.contains("store.segment_bytes") && stderr.contains("at least 4096"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_missing_config_file_exits_64() {
    let stderr = refused_config(&[("INLET_CONFIG", "/nonexistent/forms.toml")]).await;
    assert!(stderr.contains("/nonexistent/forms.toml"), "{stderr}");
}

#[tokio::test]
async fn config_file_is_layered_under_env() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("forms.toml");
    std::fs::write(
        &file,
        format!(
            "listen = \"127.0.0.1:0\"\ndata_dir = \"{}\"\n[limits]\nmax_body_bytes = 8\nmax_fields = 1\n",
            dir.path().display()
        ),
    )
    .unwrap();
    let mut forms = ServiceProcess::start(
        BIN,
        &[
            ("INLET_CONFIG", file.to_str().unwrap()),
            ("INLET_LIMITS__MAX_FIELDS", "5"),
        ],
    )
    .await;
    let form = "application/x-www-form-urlencoded";
    assert_eq!(
        post(&forms, form, "a=1&b=2", &[]).await,
        200,
        "env raised max_fields"
    );
    assert_eq!(
        post(&forms, form, "a=1&b=234", &[]).await,
        413,
        "file set the 8-byte cap"
    );
    assert!(forms.terminate().await.success());
}

/// Starts the binary on a free port with its data in `dir`, plus `extra` variables.
async fn start_forms(dir: &tempfile::TempDir, extra: &[(&str, &str)]) -> ServiceProcess {
    let mut env = vec![
        ("INLET_LISTEN", "127.0.0.1:0"),
        ("INLET_DATA_DIR", dir.path().to_str().unwrap()),
    ];
    env.extend_from_slice(extra);
    ServiceProcess::start(BIN, &env).await
}

/// Starts the binary exporting spans to `receiver` over gRPC only when it
/// exits, so every span a test sees came through the final flush.
async fn start_forms_exporting_on_exit(
    dir: &tempfile::TempDir,
    receiver: &OtlpReceiver,
) -> ServiceProcess {
    let endpoint = receiver.grpc_endpoint();
    start_forms(
        dir,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_BSP_SCHEDULE_DELAY", NEVER),
        ],
    )
    .await
}

/// Posts `body` as `content_type` (with extra headers) and returns the status.
async fn post(
    forms: &ServiceProcess,
    content_type: &str,
    body: &'static str,
    headers: &[(&str, &str)],
) -> u16 {
    let mut req = inlet_testkit::http::client()
        .post(forms.url())
        .header("content-type", content_type)
        .body(body);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.send()
        .await
        .expect("request completes")
        .status()
        .as_u16()
}

/// Posts one form and returns the trace id the service logged for it.
async fn post_and_find_trace(forms: &ServiceProcess, traceparent: Option<&str>) -> String {
    let headers: Vec<(&str, &str)> = traceparent
        .map(|tp| ("traceparent", tp))
        .into_iter()
        .collect();
    let status = post(
        forms,
        "application/x-www-form-urlencoded",
        "userinput1=a&userinput2=b",
        &headers,
    )
    .await;
    assert_eq!(status, 200);
    let line = forms
        .wait_for_log(|v| v["message"] == "submission stored")
        .await
        .expect("a JSON log line for the stored submission");
    line["trace_id"]
        .as_str()
        .expect("log line carries trace_id")
        .to_owned()
}

#[tokio::test]
async fn request_spans_reach_an_otlp_grpc_receiver_on_sigterm() {
    let receiver = OtlpReceiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut forms = start_forms_exporting_on_exit(&dir, &receiver).await;
    let trace_id = post_and_find_trace(&forms, None).await;
    assert!(forms.terminate().await.success(), "clean exit on SIGTERM");

    let server = receiver
        .wait_for_span(WAIT, |s| s.name == "POST /")
        .await
        .expect("the request span is flushed on SIGTERM");
    assert_eq!(server.service_name, "inlet-forms");
    assert_eq!(server.kind, 2, "server span");
    assert_eq!(server.attr_str("http.request.method"), Some("POST"));
    assert_eq!(server.attr_i64("http.response.status_code"), Some(200));
    assert_eq!(server.attr_str("http.route"), Some("/"));
    assert_eq!(
        server.trace_id, trace_id,
        "log line and span share the trace"
    );

    let stored = receiver
        .wait_for_span(Duration::from_secs(1), |s| {
            s.name == "forms.submission.stored"
        })
        .await
        .expect("a span for the stored submission");
    assert_eq!(stored.trace_id, server.trace_id);
    assert_eq!(stored.parent_span_id, server.span_id);
    assert_eq!(stored.attr_i64("forms.submission.field_count"), Some(2));
    assert_eq!(stored.attr_i64("forms.submission.bytes"), Some(25));
}

#[tokio::test]
async fn spans_go_over_http_protobuf_and_continue_the_callers_trace() {
    let receiver = OtlpReceiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let endpoint = receiver.http_endpoint();
    let mut forms = start_forms(
        &dir,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_SERVICE_NAME", "forms-under-test"),
            ("OTEL_BSP_SCHEDULE_DELAY", NEVER),
        ],
    )
    .await;
    let caller_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let traceparent = format!("00-{caller_trace}-00f067aa0ba902b7-01");
    let logged = post_and_find_trace(&forms, Some(&traceparent)).await;
    assert_eq!(logged, caller_trace);
    assert!(forms.terminate().await.success());

    let server = receiver
        .wait_for_span(WAIT, |s| s.name == "POST /")
        .await
        .expect("the request span arrives over HTTP");
    assert_eq!(server.service_name, "forms-under-test");
    assert_eq!(server.trace_id, caller_trace);
    assert_eq!(server.parent_span_id, "00f067aa0ba902b7");
    assert_eq!(server.attr_str("http.request.method"), Some("POST"));
    assert_eq!(server.attr_i64("http.response.status_code"), Some(200));
}

#[tokio::test]
async fn without_an_endpoint_nothing_is_exported_and_no_errors_are_logged() {
    let dir = tempfile::tempdir().unwrap();
    let mut forms = start_forms(&dir, &[]).await;
    let trace_id = post_and_find_trace(&forms, None).await;
    assert_eq!(trace_id.len(), 32, "logs still carry trace ids");
    assert!(forms.terminate().await.success());
    let logs = forms.logs();
    for line in &logs {
        let v: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
        assert_ne!(v["level"], "ERROR", "{line}");
        assert_ne!(v["level"], "WARN", "{line}");
    }
    assert!(logs.iter().any(|l| l.contains("\"stopped\"")), "{logs:?}");
}

#[tokio::test]
async fn sigterm_lets_stored_records_stay_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let mut forms = start_forms(&dir, &[]).await;
    post_and_find_trace(&forms, None).await;
    assert!(forms.terminate().await.success());

    let forms = start_forms(&dir, &[]).await;
    let page = get_json_as_admin(&format!("{}/submissions", forms.url())).await;
    assert_eq!(page["submissions"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn otel_sdk_disabled_exports_nothing_even_with_an_endpoint() {
    let receiver = OtlpReceiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let endpoint = receiver.grpc_endpoint();
    let mut forms = start_forms(
        &dir,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_SDK_DISABLED", "true"),
        ],
    )
    .await;
    assert_eq!(post(&forms, "application/json", "{}", &[]).await, 200);
    let stored = forms
        .wait_for_log(|v| v["message"] == "submission stored")
        .await
        .expect("the submission is logged");
    assert!(
        stored.get("trace_id").is_none(),
        "no spans, no ids: {stored}"
    );
    // Exiting flushes anything pending, so after exit the receiver has it all.
    assert!(forms.terminate().await.success());
    assert!(receiver.spans().is_empty(), "{:?}", receiver.spans());
}

#[tokio::test]
async fn text_logs_are_readable_and_carry_trace_ids_inside_requests() {
    let dir = tempfile::tempdir().unwrap();
    let mut forms = start_forms(&dir, &[("INLET_LOG_FORMAT", "text")]).await;
    assert_eq!(
        post(&forms, "application/x-www-form-urlencoded", "a=1", &[]).await,
        200
    );
    let line = forms
        .wait_for_line(|l| l.contains("submission stored"))
        .await
        .expect("a log line for the stored submission");
    assert!(
        serde_json::from_str::<serde_json::Value>(&line).is_err(),
        "text, not JSON: {line}"
    );
    assert!(line.contains(" INFO "), "{line}");
    let id_after = |key: &str| -> String {
        let start = line
            .find(key)
            .unwrap_or_else(|| panic!("{key} missing: {line}"))
            + key.len();
        line[start..]
            .chars()
            .take_while(|c| c.is_ascii_hexdigit())
            .collect()
    };
    assert_eq!(id_after("trace_id=").len(), 32, "{line}");
    assert_eq!(id_after("span_id=").len(), 16, "{line}");
    assert!(forms.terminate().await.success());
}

#[tokio::test]
async fn healthcheck_flag_probes_readyz_and_exits_0_or_1() {
    let dir = tempfile::tempdir().unwrap();
    let mut forms = start_forms(&dir, &[]).await;
    let listen = format!("127.0.0.1:{}", forms.port);
    let data_dir = dir.path().to_str().unwrap();
    let probe = || async {
        run_healthcheck(&[("INLET_LISTEN", &listen), ("INLET_DATA_DIR", data_dir)]).await
    };

    let (code, stderr) = probe().await;
    assert_eq!(code, Some(0), "ready service: {stderr}");

    // A file where the data folder should be: /readyz answers 503.
    let forms_dir = dir.path().join("forms");
    std::fs::remove_dir_all(&forms_dir).unwrap();
    std::fs::write(&forms_dir, b"not a folder").unwrap();
    let (code, stderr) = probe().await;
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("503") && stderr.contains("writable:"),
        "{stderr}"
    );
    std::fs::remove_file(&forms_dir).unwrap();
    std::fs::create_dir(&forms_dir).unwrap();

    assert!(forms.terminate().await.success());
    let (code, stderr) = probe().await;
    assert_eq!(code, Some(1), "stopped service: {stderr}");
    assert!(stderr.contains("no answer"), "{stderr}");
}

#[tokio::test]
async fn healthcheck_probes_are_not_traced() {
    let receiver = OtlpReceiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut forms = start_forms_exporting_on_exit(&dir, &receiver).await;
    let listen = format!("127.0.0.1:{}", forms.port);
    let (code, stderr) = run_healthcheck(&[("INLET_LISTEN", &listen)]).await;
    assert_eq!(code, Some(0), "{stderr}");
    // A request made by anyone else is traced, as the control.
    let res = inlet_testkit::http::admin_client()
        .get(format!("{}/readyz", forms.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(forms.terminate().await.success());

    receiver
        .wait_for_span(WAIT, |s| s.attr_str("http.route") == Some("/readyz"))
        .await
        .expect("the plain /readyz request is flushed on SIGTERM");
    let readyz_spans = receiver
        .spans()
        .into_iter()
        .filter(|s| s.attr_str("http.route") == Some("/readyz"))
        .count();
    assert_eq!(readyz_spans, 1, "the probe's request left no span");
}

#[tokio::test]
async fn healthcheck_with_a_bad_config_exits_1_not_64() {
    let (code, stderr) = run_healthcheck(&[("INLET_LISTEN", "nowhere")]).await;
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("INLET_LISTEN"), "{stderr}");
}

/// Runs `inlet-forms --healthcheck` with only `env`; its exit code and stderr.
async fn run_healthcheck(env: &[(&str, &str)]) -> (Option<i32>, String) {
    let (status, stderr) = run_to_exit(BIN, &["--healthcheck"], env, WAIT).await;
    (status.code(), stderr)
}

#[tokio::test]
async fn a_serve_error_is_logged_as_json_and_exits_1() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let (status, stderr) = run_to_exit(
        BIN,
        &[],
        &[
            ("INLET_LISTEN", &listen),
            ("INLET_DATA_DIR", dir.path().to_str().unwrap()),
            ("INLET_LOG_FORMAT", "json"),
        ],
        WAIT,
    )
    .await;
    assert_eq!(status.code(), Some(1), "{stderr}");
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let error = lines
        .iter()
        .find(|l| l["level"] == "ERROR")
        .unwrap_or_else(|| panic!("no ERROR line in {stderr}"));
    assert!(
        error["fields"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("in use")),
        "{error}"
    );
}

#[tokio::test]
async fn malformed_requests_get_a_readable_answer_and_one_warn_line_each() {
    let dir = tempfile::tempdir().unwrap();
    let mut forms = start_forms(&dir, &[]).await;
    let garbage = inlet_testkit::raw::send(forms.port, b"GARBAGE \x01\r\n\r\n", false, WAIT).await;
    assert_eq!(garbage.status(), Some(400), "{garbage:?}");
    assert!(
        garbage
            .text
            .ends_with("\r\n\r\nthe request could not be read as HTTP/1.1"),
        "{garbage:?}"
    );
    assert!(garbage.closed);
    let mut huge = b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: ".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 300_000));
    huge.extend_from_slice(b"\r\n\r\n");
    let too_large = inlet_testkit::raw::send(forms.port, &huge, false, WAIT).await;
    assert_eq!(too_large.status(), Some(431), "{too_large:?}");
    assert!(
        too_large.text.contains("content-type: text/plain"),
        "{too_large:?}"
    );
    assert!(forms.terminate().await.success());

    let logs: Vec<serde_json::Value> = forms
        .logs()
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let errors: Vec<&serde_json::Value> = logs.iter().filter(|l| l["level"] == "ERROR").collect();
    assert!(errors.is_empty(), "{errors:?}");
    let refusals: Vec<&serde_json::Value> = logs
        .iter()
        .filter(|l| l["target"] == "inlet_http::refusals")
        .collect();
    assert_eq!(refusals.len(), 2, "{refusals:?}");
    for line in refusals {
        assert_eq!(line["level"], "WARN");
        assert_eq!(line["fields"]["client.address"], "127.0.0.1");
    }
}

#[tokio::test]
async fn pages_of_large_records_stay_small_in_memory_however_many_read_at_once() {
    const RECORDS: usize = 20;
    const RECORD_BYTES: usize = 1900 * 1024;
    let dir = tempfile::tempdir().unwrap();
    let forms = start_forms(&dir, &[]).await;
    let client = inlet_testkit::http::admin_client();
    for n in 0..RECORDS {
        let body = format!(r#"{{"n":{n},"pad":"{}"}}"#, "x".repeat(RECORD_BYTES));
        let res = client
            .post(forms.url())
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    let before = peak_rss_kib(forms.pid());

    // Eight readers at once, each asking for everything (about 37 MiB).
    let url = format!("{}/submissions?limit=1000", forms.url());
    let readers = (0..8).map(|_| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            let page: serde_json::Value =
                client.get(&url).send().await.unwrap().json().await.unwrap();
            page
        }
    });
    let pages = futures_util::future::join_all(readers).await;
    for page in &pages {
        // The 4 MiB default budget holds two of these records, not twenty.
        assert_eq!(
            page["submissions"].as_array().unwrap().len(),
            2,
            "{}",
            page["next_cursor"]
        );
        assert_eq!(page["next_cursor"], "18");
    }
    let grown = peak_rss_kib(forms.pid()).saturating_sub(before);
    assert!(
        grown < 48 * 1024,
        "eight readers grew the peak RSS by {grown} KiB"
    );
}

#[tokio::test]
async fn many_slow_large_posts_hold_no_more_memory_than_the_inflight_budget() {
    use tokio::io::AsyncWriteExt;
    const POSTS: usize = 40;
    const BODY: usize = 2 * 1024 * 1024;
    const SENT: usize = BODY - 100 * 1024;
    const BUDGET: usize = 16 * 1024 * 1024;
    let dir = tempfile::tempdir().unwrap();
    let budget = BUDGET.to_string();
    let forms = start_forms(&dir, &[("INLET_LIMITS__MAX_INFLIGHT_BODY_BYTES", &budget)]).await;
    let pid = forms.pid();
    let rss_before = rss_kib(pid);

    // Forty posts that each declare 2 MiB and send all but the last 100 KiB.
    let mut held = Vec::new();
    for _ in 0..POSTS {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", forms.port))
            .await
            .unwrap();
        held.push(tokio::spawn(async move {
            let head = format!(
                "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {BODY}\r\n\r\n"
            );
            // A refused post's connection is closed under it: its writes fail.
            if stream.write_all(head.as_bytes()).await.is_ok() {
                let _ = stream.write_all(&vec![b' '; SENT]).await;
            }
            stream
        }));
    }
    // The budget holds eight; wait until the service has read what they sent.
    let accepted = BUDGET / BODY;
    tokio::time::timeout(WAIT, async {
        loop {
            let scrape = crate::helpers::scrape_at(&forms.url()).await;
            let reserved = crate::helpers::value(&scrape, "inlet_forms_inflight_body_bytes", &[]);
            let read = crate::helpers::value(&scrape, "inlet_forms_body_bytes_received_total", &[]);
            if reserved == BUDGET as f64 && read >= (accepted * SENT) as f64 {
                return;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the budget fills and its bodies are read");
    let grown = rss_kib(pid).saturating_sub(rss_before);
    // The budget (16 MiB) plus a fixed overhead, not 40 × 2 MiB.
    assert!(
        grown < 40 * 1024,
        "forty slow posts grew RSS by {grown} KiB"
    );
    // And it still answers.
    let health = inlet_testkit::http::admin_client()
        .get(format!("{}/healthz", forms.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    for task in held {
        drop(task.await.unwrap());
    }
}

/// Every submission id stored, following the cursor to the end.
async fn stored_ids(forms: &ServiceProcess) -> Vec<String> {
    let client = inlet_testkit::http::admin_client();
    let mut ids = Vec::new();
    let mut url = format!("{}/submissions?limit=1000", forms.url());
    loop {
        let page: serde_json::Value = client.get(&url).send().await.unwrap().json().await.unwrap();
        for record in page["submissions"].as_array().unwrap() {
            ids.push(record["fields"]["post"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => url = format!("{}/submissions?limit=1000&cursor={cursor}", forms.url()),
            None => return ids,
        }
    }
}

#[tokio::test]
async fn after_sigkill_under_load_every_acknowledged_post_is_there_once_and_nothing_else() {
    crash_under_load(&[]).await;
}

#[tokio::test]
async fn with_sync_interval_a_process_crash_loses_nothing_acknowledged_either() {
    // Only the machine's crash can lose the unsynced interval: the page cache
    // outlives the process.
    crash_under_load(&[
        ("INLET_STORE__SYNC", "interval"),
        ("INLET_STORE__SYNC_INTERVAL_MS", "1000"),
    ])
    .await;
}

/// Posts from sixteen writers until SIGKILL, three times, checking after each
/// restart (with `env`) that every acknowledged post is stored once.
async fn crash_under_load(env: &[(&str, &str)]) {
    const ROUNDS: usize = 3;
    const WRITERS: usize = 16;
    let dir = tempfile::tempdir().unwrap();
    // Small segments, so the kills also land around a roll to a new one.
    let env: Vec<(&str, &str)> = env
        .iter()
        .copied()
        .chain([("INLET_STORE__SEGMENT_BYTES", "4096")])
        .collect();
    let env = env.as_slice();
    let mut attempted = std::collections::HashSet::new();
    let mut acknowledged = std::collections::HashSet::new();
    for round in 0..ROUNDS {
        let mut forms = start_forms(&dir, env).await;
        let (acks, mut acked) = tokio::sync::mpsc::unbounded_channel::<String>();
        let (tried, mut tries) = tokio::sync::mpsc::unbounded_channel::<String>();
        let url = forms.url();
        // Sixteen writers post as fast as they can until the service dies.
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (url, acks, tried) = (url.clone(), acks.clone(), tried.clone());
                tokio::spawn(async move {
                    let client = inlet_testkit::http::client();
                    for n in 0.. {
                        let id = format!("r{round}-w{w}-n{n}");
                        tried.send(id.clone()).unwrap();
                        let sent = client
                            .post(&url)
                            .header("content-type", "application/json")
                            .body(format!(r#"{{"post":"{id}"}}"#))
                            .send()
                            .await;
                        match sent {
                            Ok(res) if res.status() == 200 => acks.send(id).unwrap(),
                            _ => return,
                        }
                    }
                })
            })
            .collect();
        drop(acks);
        // Kill it once it has acknowledged a good number of posts under load.
        let mut this_round = 0;
        while this_round < 300 {
            let id = tokio::time::timeout(WAIT, acked.recv())
                .await
                .expect("posts are acknowledged")
                .expect("writers are running");
            acknowledged.insert(id);
            this_round += 1;
        }
        assert!(!forms.kill().await.success());
        for writer in writers {
            writer.await.unwrap();
        }
        while let Ok(id) = acked.try_recv() {
            acknowledged.insert(id);
        }
        drop(tried);
        while let Some(id) = tries.recv().await {
            attempted.insert(id);
        }

        // After a restart: every acknowledged post exactly once, nothing not posted.
        let mut forms = start_forms(&dir, env).await;
        let ids = stored_ids(&forms).await;
        let unique: std::collections::HashSet<_> = ids.iter().cloned().collect();
        assert_eq!(
            unique.len(),
            ids.len(),
            "round {round}: a record is stored twice"
        );
        let missing: Vec<_> = acknowledged.difference(&unique).collect();
        assert!(
            missing.is_empty(),
            "round {round}: acknowledged but lost: {missing:?}"
        );
        let foreign: Vec<_> = unique.difference(&attempted).collect();
        assert!(
            foreign.is_empty(),
            "round {round}: stored but never posted: {foreign:?}"
        );
        assert!(forms.terminate().await.success());
    }
    // The journal on disk reads back line for line.
    let forms_dir = dir.path().join("forms");
    let segments = inlet_forms::store::segment_files(&forms_dir).unwrap();
    assert!(segments.len() > ROUNDS, "{} segments", segments.len());
    let journal = crate::helpers::journal_text_in(&forms_dir);
    for line in journal.lines() {
        serde_json::from_str::<serde_json::Value>(line).expect("every stored line is whole JSON");
    }
}

#[tokio::test]
async fn each_stored_submission_carries_the_trace_id_that_stored_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut forms = start_forms(&dir, &[]).await;
    let caller_trace = "0af7651916cd43dd8448eb211c80319c";
    let traceparent = format!("00-{caller_trace}-b7ad6b7169203331-01");
    let logged = post_and_find_trace(&forms, Some(&traceparent)).await;
    assert_eq!(logged, caller_trace);
    let untraced = post(&forms, "application/json", r#"{"plain":true}"#, &[]).await;
    assert_eq!(untraced, 200);
    let page = get_json_as_admin(&format!("{}/submissions", forms.url())).await;
    let records = page["submissions"].as_array().unwrap();
    assert_eq!(records.len(), 2);
    // Newest first: the untraced one got a trace of its own.
    let own = records[0]["trace_id"].as_str().unwrap();
    assert_eq!(own.len(), 32);
    assert_ne!(own, caller_trace);
    assert_eq!(records[0]["size"], r#"{"plain":true}"#.len());
    assert_eq!(
        records[1]["trace_id"], caller_trace,
        "the client's trace is honoured"
    );
    // One record by its id: the same bytes as in the page.
    let id = records[1]["id"].as_str().unwrap();
    let one = get_json_as_admin(&format!("{}/submissions/{id}", forms.url())).await;
    assert_eq!(&one, &records[1]);
    assert!(forms.terminate().await.success());
}

#[tokio::test]
async fn a_refused_credential_is_one_warn_line_with_the_address_and_never_the_credential() {
    let dir = tempfile::tempdir().unwrap();
    let mut forms = start_forms(&dir, &[]).await;
    let guess = "guessed-credential-0123456789";
    let res = inlet_testkit::http::client()
        .get(format!("{}/submissions", forms.url()))
        .bearer_auth(guess)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let line = forms
        .wait_for_log(|v| v["message"] == "credential refused")
        .await
        .expect("a line for the refused credential");
    assert_eq!(line["level"], "WARN");
    assert_eq!(line["fields"]["client.address"], "127.0.0.1");
    assert_eq!(line["fields"]["reason"], "wrong");
    assert!(forms.terminate().await.success());
    for logged in forms.logs() {
        assert!(!logged.contains(guess), "a credential was logged: {logged}");
        assert!(
            !logged.contains(inlet_testkit::access::ADMIN_TOKEN),
            "the configured token was logged: {logged}"
        );
    }
}
