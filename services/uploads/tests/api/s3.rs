//! The S3 store when S3 goes away and comes back, with the service as its
//! own process so that its log lines can be read.

use inlet_testkit::process::ServiceProcess;
use inlet_testkit::s3::S3Server;

const BIN: &str = env!("CARGO_BIN_EXE_inlet-uploads");
const BUCKET: &str = "inlet-outage";

#[tokio::test]
async fn while_s3_is_down_uploads_get_503_and_none_is_lost_or_logged_as_an_error() {
    let mut s3 = S3Server::start().await;
    let data = tempfile::tempdir().unwrap();
    let mut env = s3.uploads_env(BUCKET);
    env.extend([
        ("INLET_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        (
            "INLET_DATA_DIR".to_owned(),
            data.path().display().to_string(),
        ),
        ("INLET_LOG_FORMAT".to_owned(), "json".to_owned()),
        (
            "INLET_ADMIN_TOKEN".to_owned(),
            inlet_testkit::access::ADMIN_TOKEN.to_owned(),
        ),
        (
            "INLET_STORE__S3__REQUEST_TIMEOUT_MS".to_owned(),
            "1000".to_owned(),
        ),
    ]);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let uploads = ServiceProcess::start(BIN, &env).await;
    let client = inlet_testkit::http::admin_client();
    let put = |n: usize| {
        let client = client.clone();
        let url = uploads.url();
        async move {
            client
                .put(format!("{url}/"))
                .header("x-field", "f")
                .header("x-filename", format!("{n}.txt"))
                .header("accept", "application/json")
                .body(format!("file {n}"))
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(put(0).await.status(), 200);

    s3.kill().await;
    let refused = put(1).await;
    assert_eq!(refused.status(), 503);
    assert!(refused.headers().contains_key("retry-after"));
    let body = refused.text().await.unwrap();
    assert!(
        body.contains("try again"),
        "a message a person understands: {body}"
    );
    let listing = client
        .get(format!("{}/files", uploads.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(listing.status(), 503, "reads say so too");
    let readyz = format!("{}/readyz", uploads.url());
    let down = inlet_testkit::http::wait_for_status(&client, &readyz, 503).await;
    assert!(down.contains("s3"), "{down}");

    // Back, but empty (moto keeps nothing): the operator makes the bucket again.
    s3.start_again().await;
    let made = reqwest::Client::new()
        .put(format!("{}/{BUCKET}", s3.endpoint()))
        .send()
        .await
        .unwrap();
    assert!(made.status().is_success(), "{}", made.status());
    inlet_testkit::http::wait_for_status(&client, &readyz, 200).await;
    let mut acknowledged = Vec::new();
    for n in 2..6 {
        let res = put(n).await;
        assert_eq!(res.status(), 200);
        let answer: serde_json::Value = res.json().await.unwrap();
        acknowledged.push(answer["stored"][0]["name"].as_str().unwrap().to_owned());
    }
    let listed =
        inlet_testkit::http::get_json_as_admin(&format!("{}/files?limit=100", uploads.url())).await;
    let mut listed: Vec<String> = listed["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_owned())
        .collect();
    listed.sort();
    acknowledged.sort();
    assert_eq!(listed, acknowledged, "every file acknowledged since, once");
    let errors: Vec<String> = uploads
        .logs()
        .into_iter()
        .filter(|line| line.contains(r#""level":"ERROR""#))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(
        uploads.logs().iter().any(|l| l.contains("lost S3")),
        "the loss is logged, as a warning"
    );
}
