//! Each stored submission is published to the gateway's event feed; a
//! gateway that is down never fails a post.

use inlet_common::publish::event::Kind;
use inlet_testkit::ingest::IngestStandIn;

use crate::helpers::spawn_app;

#[tokio::test]
async fn a_stored_submission_is_published_with_its_id_and_field_names() {
    let mut gateway = IngestStandIn::start().await;
    let app = spawn_app(&[("INLET_GATEWAY_URL", &gateway.url)]).await;
    let res = app
        .post(
            "application/x-www-form-urlencoded",
            "userinput1=a&userinput2=b",
        )
        .await;
    assert_eq!(res.status(), 200);
    let published = gateway.next().await;
    assert_eq!(published.event.source, "inlet-forms");
    let Some(Kind::FormSubmitted(form)) = published.event.kind else {
        panic!("not a form event: {:?}", published.event);
    };
    assert_eq!(form.field_names, ["userinput1", "userinput2"]);
    assert_eq!(form.content_type, "application/x-www-form-urlencoded");
    assert_eq!(form.size, 25);
    assert_eq!(form.submission_id, published.event.id);
    let stored = app.stored();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["id"], form.submission_id.as_str());
}

#[tokio::test]
async fn posts_succeed_while_the_gateway_is_down_and_the_event_follows_it_up() {
    let address = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap()
    };
    let app = spawn_app(&[
        ("INLET_GATEWAY_URL", &format!("http://{address}")),
        ("INLET_PUBLISH__RETRY_MIN_MS", "20"),
        ("INLET_PUBLISH__RETRY_MAX_MS", "100"),
    ])
    .await;
    let res = app.post("application/json", r#"{"while":"down"}"#).await;
    assert_eq!(res.status(), 200, "a missing gateway never fails a post");
    let mut gateway = IngestStandIn::serve(tokio::net::TcpListener::bind(address).await.unwrap());
    let published = gateway.next().await;
    let Some(Kind::FormSubmitted(form)) = published.event.kind else {
        panic!("not a form event");
    };
    assert_eq!(form.field_names, ["while"]);
}
