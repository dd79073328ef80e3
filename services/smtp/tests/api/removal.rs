//! Deleting a message through the mail API, retention of a mailbox, and
//! the low-disk guard's 452, on a running service.

use std::time::Duration;

use inlet_common::publish::event::Kind;
use inlet_testkit::access::{assert_delete_needs_the_delete_scope, READ_TOKEN};
use inlet_testkit::ingest::IngestStandIn;

use crate::helpers::spawn_smtp;

fn message(subject: &str) -> Vec<u8> {
    format!("From: a@example.org\r\nSubject: {subject}\r\n\r\nbody of {subject}\r\n").into_bytes()
}

async fn listed(url: &str) -> Vec<(String, String)> {
    let page = inlet_testkit::http::get_json_as_admin(url).await;
    page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["id"].as_str().unwrap().to_owned(),
                m["subject"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_deleted_message_is_gone_from_the_api_and_the_mailbox_and_announced() {
    let mut gateway = IngestStandIn::start().await;
    let smtp = spawn_smtp(&[
        ("INLET_GATEWAY_URL", &gateway.url),
        ("INLET_READ_TOKEN", READ_TOKEN),
    ])
    .await;
    smtp.deliver(&message("keep")).await;
    smtp.deliver(&message("drop")).await;
    gateway.next().await;
    gateway.next().await;
    let client = inlet_testkit::http::admin_client();
    let before = listed(&smtp.api("/messages")).await;
    let (id, _) = before.iter().find(|(_, s)| s == "drop").unwrap().clone();
    let url = smtp.api(&format!("/messages/{id}"));
    assert_delete_needs_the_delete_scope(&url).await;

    let res = client.delete(&url).send().await.unwrap();
    assert_eq!(res.status(), 204);
    for path in [url.clone(), format!("{url}/raw")] {
        assert_eq!(
            client.get(&path).send().await.unwrap().status(),
            404,
            "{path}"
        );
    }
    let after = listed(&smtp.api("/messages")).await;
    assert_eq!(
        after.iter().map(|(_, s)| s.as_str()).collect::<Vec<_>>(),
        ["keep"]
    );
    assert_eq!(smtp.new_mail("you").len(), 1, "the file left the mailbox");
    assert_eq!(
        client.delete(&url).send().await.unwrap().status(),
        404,
        "twice"
    );
    let odd = client
        .delete(smtp.api("/messages/not-an-id"))
        .send()
        .await
        .unwrap();
    assert_eq!(odd.status(), 404);

    let published = gateway.next().await;
    let Some(Kind::MailDeleted(deleted)) = published.event.kind else {
        panic!("not a deletion: {:?}", published.event);
    };
    assert_eq!(
        (deleted.message_id.as_str(), deleted.mailbox.as_str()),
        (id.as_str(), "you")
    );
    assert_eq!(deleted.reason, "deleted");
    let metrics =
        inlet_testkit::http::get_text(&format!("http://127.0.0.1:{}/metrics", smtp.admin_port))
            .await;
    assert!(
        metrics
            .lines()
            .any(|l| l == r#"inlet_smtp_messages_removed_total{reason="deleted"} 1"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_mailbox_over_its_count_loses_its_oldest_message_at_the_next_sweep() {
    let mut gateway = IngestStandIn::start().await;
    let smtp = spawn_smtp(&[
        ("INLET_GATEWAY_URL", &gateway.url),
        ("INLET_MAIL__RETENTION_MAX_MESSAGES", "2"),
        ("INLET_MAIL__SWEEP_INTERVAL", "50ms"),
    ])
    .await;
    for subject in ["first", "second", "third"] {
        smtp.deliver(&message(subject)).await;
    }
    let removed = loop {
        let published = tokio::time::timeout(Duration::from_secs(10), gateway.next())
            .await
            .expect("the sweep announces what it removed");
        if let Some(Kind::MailDeleted(mail)) = published.event.kind {
            break mail;
        }
    };
    assert_eq!(removed.reason, "max_messages");
    let left = listed(&smtp.api("/messages")).await;
    let subjects: Vec<&str> = left.iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(subjects, ["third", "second"]);
    assert!(left.iter().all(|(id, _)| *id != removed.message_id));
}

#[tokio::test]
async fn under_the_disk_floor_mail_from_is_452_and_readyz_says_so() {
    let smtp = spawn_smtp(&[("INLET_DISK__MIN_FREE_BYTES", &u64::MAX.to_string())]).await;
    let mut dialogue = smtp.dial().await;
    assert_eq!(dialogue.say("ehlo client").await, 250);
    dialogue.send(b"MAIL FROM:<a@example.org>\r\n").await;
    let reply = dialogue.reply().await;
    assert!(reply.starts_with("452 4.3.1 "), "{reply}");
    assert!(reply.contains("disk is nearly full"), "{reply}");
    assert_eq!(dialogue.say("quit").await, 221);
    assert!(smtp.nothing_stored());
    let ready = inlet_testkit::http::client()
        .get(format!("http://127.0.0.1:{}/readyz", smtp.admin_port))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
    let report: serde_json::Value = ready.json().await.unwrap();
    assert!(
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "disk-space" && c["ok"] == false),
        "{report}"
    );
}
