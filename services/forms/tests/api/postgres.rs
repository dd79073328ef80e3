//! `store.backend = "postgres"`: the service on a real PostgreSQL server
//! (Debian's, started per test), as one replica and as two sharing a table.

use inlet_testkit::postgres::PostgresServer;
use inlet_testkit::process::ServiceProcess;

use crate::helpers::{spawn_app, TestApp};

const BIN: &str = env!("CARGO_BIN_EXE_inlet-forms");
const FORM: &str = "application/x-www-form-urlencoded";

async fn replica(server: &PostgresServer) -> TestApp {
    let url = server.url();
    spawn_app(&[
        ("INLET_STORE__BACKEND", "postgres"),
        ("INLET_STORE__POSTGRES__URL", &url),
    ])
    .await
}

fn ids(page: &serde_json::Value) -> Vec<String> {
    page["submissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn two_replicas_share_one_table_for_posts_reads_and_deletions() {
    let server = PostgresServer::start().await;
    let (a, b) = (replica(&server).await, replica(&server).await);
    assert_eq!(a.post(FORM, "name=Ada&lang=en").await.status(), 200);
    assert_eq!(
        b.post("application/json", r#"{"name":"Grace","n":[1,2]}"#)
            .await
            .status(),
        200
    );
    let listed = a.get_json("/submissions").await;
    let [second_id, first_id] = <[String; 2]>::try_from(ids(&listed)).expect("two records");
    assert_eq!(listed["submissions"][0]["fields"]["name"], "Grace");
    // Either replica lists both, newest first, and pages with the same cursor.
    for app in [&a, &b] {
        assert_eq!(
            ids(&app.get_json("/submissions").await),
            [second_id.clone(), first_id.clone()]
        );
        let page = app.get_json("/submissions?limit=1").await;
        assert_eq!(ids(&page), std::slice::from_ref(&second_id));
        let cursor = page["next_cursor"]
            .as_str()
            .expect("a second page")
            .to_owned();
        let rest = app
            .get_json(&format!("/submissions?limit=1&cursor={cursor}"))
            .await;
        assert_eq!(ids(&rest), std::slice::from_ref(&first_id));
    }
    let one = b.get_json(&format!("/submissions/{first_id}")).await;
    assert_eq!(
        one["fields"],
        serde_json::json!({"name": "Ada", "lang": "en"})
    );
    assert_eq!(one["content_type"], FORM);
    // Deleted through B, gone through A.
    let deleted = b
        .client
        .delete(b.url(&format!("/submissions/{first_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let gone = a
        .client
        .get(a.url(&format!("/submissions/{first_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
    assert_eq!(
        ids(&a.get_json("/submissions").await),
        std::slice::from_ref(&second_id)
    );
    // Nothing went to the data volume, and readiness names the database.
    assert!(!a.forms_dir().join("journal").exists());
    let ready = a.get_json("/readyz").await;
    let names: Vec<&str> = ready["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"postgres"), "{names:?}");
    assert!(!names.contains(&"disk-space"), "{names:?}");
}

#[tokio::test]
async fn while_postgres_is_down_posts_get_503_and_none_is_lost_or_logged_as_an_error() {
    let mut server = PostgresServer::start().await;
    let data = tempfile::tempdir().unwrap();
    let url = server.url();
    let forms = ServiceProcess::start(
        BIN,
        &[
            ("INLET_LISTEN", "127.0.0.1:0"),
            ("INLET_DATA_DIR", data.path().to_str().unwrap()),
            ("INLET_STORE__BACKEND", "postgres"),
            ("INLET_STORE__POSTGRES__URL", &url),
            ("INLET_STORE__POSTGRES__CONNECT_TIMEOUT_MS", "1000"),
            ("INLET_ADMIN_TOKEN", inlet_testkit::access::ADMIN_TOKEN),
        ],
    )
    .await;
    let client = inlet_testkit::http::admin_client();
    let post = |n: usize| {
        let client = client.clone();
        let url = forms.url();
        async move {
            client
                .post(format!("{url}/"))
                .header("content-type", FORM)
                .body(format!("n={n}"))
                .send()
                .await
                .unwrap()
        }
    };
    let mut acknowledged = vec!["0".to_owned()];
    assert_eq!(post(0).await.status(), 200);

    server.stop().await;
    let refused = post(1).await;
    assert_eq!(refused.status(), 503);
    assert!(refused.headers().contains_key("retry-after"));
    let body = refused.text().await.unwrap();
    assert!(
        body.contains("try again"),
        "a message a person understands: {body}"
    );
    let readyz = format!("{}/readyz", forms.url());
    let down = inlet_testkit::http::wait_for_status(&client, &readyz, 503).await;
    assert!(down.contains("postgres"), "{down}");

    server.start_again().await;
    inlet_testkit::http::wait_for_status(&client, &readyz, 200).await;
    for n in 2..12 {
        assert_eq!(post(n).await.status(), 200);
        acknowledged.push(n.to_string());
    }
    let listed: serde_json::Value = client
        .get(format!("{}/submissions?limit=100", forms.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut listed: Vec<String> = listed["submissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["fields"]["n"].as_str().unwrap().to_owned())
        .collect();
    listed.reverse();
    assert_eq!(
        listed, acknowledged,
        "every acknowledged post, once, in order"
    );
    let errors: Vec<String> = forms
        .logs()
        .into_iter()
        .filter(|line| line.contains(r#""level":"ERROR""#))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(
        forms.logs().iter().any(|l| l.contains("lost PostgreSQL")),
        "the loss is logged once, as a warning"
    );
}

#[tokio::test]
async fn the_commit_that_stored_a_post_is_a_span_linked_from_its_trace() {
    let server = PostgresServer::start().await;
    let receiver = inlet_testkit::otlp::OtlpReceiver::start().await;
    let data = tempfile::tempdir().unwrap();
    let (url, endpoint) = (server.url(), receiver.grpc_endpoint());
    let mut forms = ServiceProcess::start(
        BIN,
        &[
            ("INLET_LISTEN", "127.0.0.1:0"),
            ("INLET_DATA_DIR", data.path().to_str().unwrap()),
            ("INLET_STORE__BACKEND", "postgres"),
            ("INLET_STORE__POSTGRES__URL", &url),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
        ],
    )
    .await;
    inlet_testkit::http::install_crypto_provider();
    let res = reqwest::Client::new()
        .post(format!("{}/", forms.url()))
        .header("content-type", FORM)
        .body("a=1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(forms.terminate().await.success());
    let stored = receiver
        .wait_for_span(inlet_testkit::WAIT, |s| s.name == "forms.submission.stored")
        .await
        .expect("the submission's span");
    let commit = receiver
        .wait_for_span(inlet_testkit::WAIT, |s| s.name == "forms.store.commit")
        .await
        .expect("the commit's span");
    assert_eq!(commit.attr_str("db.system"), Some("postgresql"));
    assert_eq!(commit.attr_i64("forms.store.records"), Some(1));
    assert!(
        commit
            .links
            .contains(&(stored.trace_id.clone(), stored.span_id.clone())),
        "the commit links to the post it stored: {:?}",
        commit.links
    );
}
