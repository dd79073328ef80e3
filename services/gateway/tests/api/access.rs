//! Following the feed needs the credential (a header, or the page session's
//! cookie); publishing needs the publish secret.

use inlet_proto::events::v1::event_ingest_client::EventIngestClient;
use inlet_proto::events::v1::PublishRequest;
use inlet_testkit::access::{admin_bearer, ADMIN_TOKEN, READ_TOKEN};
use inlet_testkit::ws::{next_json, try_connect};

use crate::helpers::{form_event, publish, spawn_gateway};

#[tokio::test]
async fn the_feed_needs_the_credential() {
    let gw = spawn_gateway(&[("INLET_READ_TOKEN", READ_TOKEN)]).await;
    let url = gw.ws_url("/events");
    assert_eq!(
        try_connect(&url, &[]).await.err().map(|s| s.as_u16()),
        Some(401)
    );
    let wrong = try_connect(
        &url,
        &[("authorization", "Bearer not-the-token-0123456789")],
    )
    .await;
    assert_eq!(wrong.err().map(|s| s.as_u16()), Some(401));
    for token in [ADMIN_TOKEN, READ_TOKEN] {
        let bearer = format!("Bearer {token}");
        let mut socket = try_connect(&url, &[("authorization", &bearer)])
            .await
            .expect("the right token opens the feed");
        assert_eq!(next_json(&mut socket).await["type"], "subscribed");
    }
    // The seed's socket and /echo stay open to anyone.
    assert!(try_connect(&gw.ws_url("/"), &[]).await.is_ok());
    assert!(try_connect(&gw.ws_url("/echo"), &[]).await.is_ok());
}

#[tokio::test]
async fn a_page_session_opens_the_feed_until_it_is_ended() {
    let gw = spawn_gateway(&[]).await;
    let client = inlet_testkit::http::client();
    let refused = client
        .post(gw.url("/session"))
        .bearer_auth("wrong-token-0123456789")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert!(refused.headers().get("set-cookie").is_none());
    let signed_in = client
        .post(gw.url("/session"))
        .header("authorization", admin_bearer())
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 200);
    let set_cookie = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    assert!(
        !set_cookie.contains(ADMIN_TOKEN),
        "the token itself is never in the cookie"
    );
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let who = client
        .get(gw.url("/session"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(who.status(), 200);
    assert_eq!(
        who.json::<serde_json::Value>().await.unwrap()["scope"],
        "delete"
    );
    let mut socket = try_connect(&gw.ws_url("/events"), &[("cookie", &cookie)])
        .await
        .expect("the session cookie opens the feed");
    assert_eq!(next_json(&mut socket).await["type"], "subscribed");

    let signed_out = client
        .delete(gw.url("/session"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), 204);
    let removal = signed_out.headers()["set-cookie"].to_str().unwrap();
    assert!(removal.contains("Max-Age=0"), "{removal}");
    // A cookie signed under other tokens is worth nothing here.
    let other = spawn_gateway(&[("INLET_ADMIN_TOKEN", "another-admin-token-0123456789")]).await;
    let foreign = try_connect(&other.ws_url("/events"), &[("cookie", &cookie)]).await;
    assert_eq!(foreign.err().map(|s| s.as_u16()), Some(401));
}

#[tokio::test]
async fn only_publishers_with_the_secret_reach_the_feed() {
    let gw = spawn_gateway(&[]).await;
    let (mut feed, _) = gw.subscribe("").await;
    let mut anonymous = EventIngestClient::new(gw.ingest_channel().await);
    let forged = anonymous
        .publish(PublishRequest {
            event: Some(form_event("forged", &["ceo"])),
        })
        .await
        .expect_err("no secret, no publish");
    assert_eq!(forged.code(), tonic::Code::Unauthenticated);
    let mut request = tonic::Request::new(PublishRequest {
        event: Some(form_event("forged-2", &["ceo"])),
    });
    request.metadata_mut().insert(
        "authorization",
        "Bearer guessed-secret-0123456789".parse().unwrap(),
    );
    let wrong = anonymous
        .publish(request)
        .await
        .expect_err("a wrong secret");
    assert_eq!(wrong.code(), tonic::Code::Unauthenticated);

    let sequence = publish(&mut gw.ingest().await, form_event("real", &["name"])).await;
    let frame = next_json(&mut feed).await;
    assert_eq!(
        frame["id"], "real",
        "the forged events never reached the feed: {frame}"
    );
    assert_eq!(frame["sequence"], sequence);
    assert_eq!(
        gw.metric("inlet_gateway_ingest_unauthenticated_total", None)
            .await,
        2.0
    );
}
