//! The mail API: real messages stored over SMTP, read back through
//! `/messages`, parsed by mail-parser, byte-exact through `/raw`.

use base64::Engine as _;
use inlet_testkit::access::{assert_read_needs_the_credential, ADMIN_TOKEN};

use crate::helpers::spawn_smtp;

/// A small PNG (the 8-byte signature and an IHDR chunk's start): binary
/// with bytes that would break a text path.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06";

fn alternative() -> Vec<u8> {
    b"From: =?UTF-8?B?SsO8cmdlbiBNw7xsbGVy?= <jm@example.org>\r\n\
To: you@example.com\r\n\
Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=\r\n\
Date: Tue, 1 Dec 2026 10:00:00 +0100\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/alternative; boundary=\"alt\"\r\n\
\r\n\
--alt\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\
\r\n\
Hallo, sch=C3=B6ne Gr=C3=BC=C3=9Fe!\r\n\
--alt\r\n\
Content-Type: text/html; charset=utf-8\r\n\
\r\n\
<p>Hallo, <b>sch\xc3\xb6ne</b> Gr\xc3\xbc\xc3\x9fe!</p>\r\n\
--alt--\r\n"
        .to_vec()
}

fn mixed_with_attachments() -> Vec<u8> {
    let png = base64::engine::general_purpose::STANDARD.encode(PNG);
    format!(
        "From: Ada <ada@example.org>\r\n\
To: you@example.com, another@example.com\r\n\
Subject: report\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"outer\"\r\n\
\r\n\
--outer\r\n\
Content-Type: multipart/alternative; boundary=\"inner\"\r\n\
\r\n\
--inner\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
See the attachments.\r\n\
--inner\r\n\
Content-Type: text/html; charset=utf-8\r\n\
\r\n\
<p>See the attachments.</p>\r\n\
--inner--\r\n\
--outer\r\n\
Content-Type: image/png\r\n\
Content-Transfer-Encoding: base64\r\n\
Content-Disposition: attachment; filename=\"pixel.png\"\r\n\
\r\n\
{png}\r\n\
--outer\r\n\
Content-Type: application/pdf; name=\"=?UTF-8?Q?r=C3=A9sum=C3=A9.pdf?=\"\r\n\
Content-Transfer-Encoding: base64\r\n\
Content-Disposition: attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf\r\n\
\r\n\
JVBERi0xLjQK\r\n\
--outer--\r\n"
    )
    .into_bytes()
}

fn latin1() -> Vec<u8> {
    b"From: someone@example.org\r\n\
Subject: =?ISO-8859-1?Q?caf=E9?=\r\n\
Content-Type: text/plain; charset=iso-8859-1\r\n\
Content-Transfer-Encoding: 8bit\r\n\
\r\n\
un caf\xe9 cr\xe8me\r\n"
        .to_vec()
}

fn malformed() -> Vec<u8> {
    b"Subject: broken\r\n\
Content-Type: multipart/mixed; boundary=\"never-closed\"\r\n\
From: <<<not an address\r\n\
\r\n\
--never-closed\r\n\
Content-Type: text/plain\r\n\
\r\n\
what could be read\r\n"
        .to_vec()
}

async fn get_json(url: &str) -> serde_json::Value {
    let res = inlet_testkit::http::admin_client()
        .get(url)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{url}");
    res.json().await.unwrap()
}

#[tokio::test]
async fn a_corpus_of_real_messages_is_listed_parsed_and_given_back_byte_exact() {
    let smtp = spawn_smtp(&[]).await;
    for message in [
        alternative(),
        mixed_with_attachments(),
        latin1(),
        malformed(),
    ] {
        smtp.deliver(&message).await;
    }
    let page = get_json(&smtp.api("/messages?mailbox=you")).await;
    let items = page["messages"].as_array().unwrap();
    assert_eq!(items.len(), 4, "{page}");
    // Newest first: the order they were sent, reversed.
    let subjects: Vec<&str> = items
        .iter()
        .map(|m| m["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["broken", "café", "report", "Grüße aus Köln"]);
    let by_subject = |s: &str| items.iter().find(|m| m["subject"] == s).unwrap().clone();

    let greeting = by_subject("Grüße aus Köln");
    assert_eq!(greeting["from"][0]["name"], "Jürgen Müller");
    assert_eq!(greeting["from"][0]["address"], "jm@example.org");
    assert_eq!(greeting["mailbox"], "you");
    assert!(greeting["date"]
        .as_str()
        .unwrap()
        .starts_with("2026-12-01T10:00:00"));
    let id = greeting["id"].as_str().unwrap();
    let detail = get_json(&smtp.api(&format!("/messages/{id}"))).await;
    assert_eq!(
        detail["text"].as_str().unwrap().trim(),
        "Hallo, schöne Grüße!"
    );
    assert!(detail["html"].as_str().unwrap().contains("<b>schöne</b>"));
    assert!(detail["headers"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["name"] == "Received"));

    let report = by_subject("report");
    assert_eq!(report["attachment_count"], 2);
    assert_eq!(report["to"].as_array().unwrap().len(), 2);
    let id = report["id"].as_str().unwrap();
    let detail = get_json(&smtp.api(&format!("/messages/{id}"))).await;
    assert_eq!(
        detail["text"].as_str().unwrap().trim(),
        "See the attachments."
    );
    let attachments = detail["attachments"].as_array().unwrap();
    assert_eq!(attachments[0]["name"], "pixel.png");
    assert_eq!(attachments[0]["content_type"], "image/png");
    assert_eq!(attachments[0]["size"], PNG.len());
    assert_eq!(attachments[1]["name"], "résumé.pdf");
    let png = inlet_testkit::http::admin_client()
        .get(smtp.api(&format!("/messages/{id}/attachments/0")))
        .send()
        .await
        .unwrap();
    assert_eq!(png.status(), 200);
    let disposition = png.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    assert_eq!(png.headers()["x-content-type-options"], "nosniff");
    assert!(png.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .starts_with("sandbox"));
    assert_eq!(png.bytes().await.unwrap().as_ref(), PNG);
    let pdf = inlet_testkit::http::admin_client()
        .get(smtp.api(&format!("/messages/{id}/attachments/1")))
        .send()
        .await
        .unwrap();
    assert!(pdf.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"));
    assert_eq!(pdf.bytes().await.unwrap().as_ref(), b"%PDF-1.4\n");
    let none = inlet_testkit::http::admin_client()
        .get(smtp.api(&format!("/messages/{id}/attachments/2")))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 404);

    let cafe = by_subject("café");
    let detail = get_json(&smtp.api(&format!("/messages/{}", cafe["id"].as_str().unwrap()))).await;
    assert_eq!(detail["text"].as_str().unwrap().trim(), "un café crème");

    // The malformed one lists, and what could be read of it is there: its
    // part (of a multipart that never closes) as an attachment.
    let broken = by_subject("broken");
    let id = broken["id"].as_str().unwrap();
    let detail = get_json(&smtp.api(&format!("/messages/{id}"))).await;
    assert_eq!(detail["from"][0]["address"], "<<not an address", "{detail}");
    let part = inlet_testkit::http::admin_client()
        .get(smtp.api(&format!("/messages/{id}/attachments/0")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(part.contains("what could be read"), "{part}");

    // /raw is the stored file, exactly; the client's bytes end it.
    let stored = smtp.new_mail("you");
    for item in items {
        let id = item["id"].as_str().unwrap();
        let raw = inlet_testkit::http::admin_client()
            .get(smtp.api(&format!("/messages/{id}/raw")))
            .send()
            .await
            .unwrap();
        assert_eq!(raw.headers()["content-type"], "message/rfc822");
        let raw = raw.bytes().await.unwrap().to_vec();
        assert!(stored.contains(&raw), "{id}: not a stored file's bytes");
        assert_eq!(item["size"], raw.len());
    }
    // What was sent, and the CRLF that ends it before the final dot.
    let mut sent = latin1();
    sent.extend_from_slice(b"\r\n");
    let raw_cafe = inlet_testkit::http::admin_client()
        .get(smtp.api(&format!("/messages/{}/raw", cafe["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(
        raw_cafe.ends_with(&sent),
        "the non-UTF-8 bytes are kept as sent"
    );
}

#[tokio::test]
async fn pages_share_the_rules_of_every_list_and_ids_never_name_a_path() {
    let smtp = spawn_smtp(&[]).await;
    for n in 0..5 {
        smtp.deliver(format!("Subject: n{n}\r\n\r\nbody {n}").as_bytes())
            .await;
    }
    let mut seen = Vec::new();
    let mut url = smtp.api("/messages?limit=2");
    loop {
        let page = get_json(&url).await;
        for item in page["messages"].as_array().unwrap() {
            seen.push(item["subject"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => url = smtp.api(&format!("/messages?limit=2&cursor={cursor}")),
            None => break,
        }
    }
    assert_eq!(seen, ["n4", "n3", "n2", "n1", "n0"]);
    let client = inlet_testkit::http::admin_client();
    for (query, status) in [
        ("/messages?limit=0", 400),
        ("/messages?limit=2&limit=3", 400),
        ("/messages?cursor=nonsense", 400),
        ("/messages?mailbox=stranger", 400),
        ("/messages?mailbox=../you", 400),
    ] {
        let res = client.get(smtp.api(query)).send().await.unwrap();
        assert_eq!(res.status(), status, "{query}");
    }
    let name = smtp.new_mail_names("you")[0].clone();
    for path in [
        format!("/messages/{name}"),
        "/messages/..%2F..%2Fetc%2Fpasswd".to_owned(),
        "/messages/%2E%2E/raw".to_owned(),
        "/messages/0123456789abcdef0123456789abcdef".to_owned(),
        "/messages/0123456789abcdef0123456789abcdef/raw".to_owned(),
    ] {
        let res = client.get(smtp.api(&path)).send().await.unwrap();
        assert_eq!(res.status(), 404, "{path}");
    }
}

#[tokio::test]
async fn messages_page_like_every_list() {
    let smtp = spawn_smtp(&[("INLET_MESSAGES__MAX_LIST_LIMIT", "20")]).await;
    for n in 0..5 {
        smtp.deliver(format!("Subject: n{n}\r\n\r\nbody {n}").as_bytes())
            .await;
    }
    let all =
        inlet_testkit::paging::assert_pages_like_every_list(&smtp.api("/messages"), "messages", 20)
            .await;
    let order: Vec<&str> = all.iter().map(|m| m["subject"].as_str().unwrap()).collect();
    assert_eq!(order, ["n4", "n3", "n2", "n1", "n0"]);
}

#[tokio::test]
async fn every_mail_read_needs_the_credential() {
    // Each path below spends one wrong try from this address: room for all.
    let smtp = spawn_smtp(&[("INLET_ACCESS__FAILURE_BURST", "20")]).await;
    smtp.deliver(&mixed_with_attachments()).await;
    let page = get_json(&smtp.api("/messages")).await;
    let id = page["messages"][0]["id"].as_str().unwrap().to_owned();
    for path in [
        "/messages".to_owned(),
        format!("/messages/{id}"),
        format!("/messages/{id}/raw"),
        format!("/messages/{id}/attachments/0"),
        "/metrics".to_owned(),
    ] {
        assert_read_needs_the_credential(&smtp.api(&path), false).await;
    }
    // The admin listener serves health and metrics to anyone, and no mail.
    let open = inlet_testkit::http::client();
    let metrics = open
        .get(format!("http://127.0.0.1:{}/metrics", smtp.admin_port))
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), 200);
    let mail = open
        .get(format!("http://127.0.0.1:{}/messages", smtp.admin_port))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(mail.status(), 404);
}
