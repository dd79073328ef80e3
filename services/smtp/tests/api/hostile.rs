//! Clients that try to smuggle, flood or race.

use crate::helpers::spawn_smtp;

#[tokio::test]
async fn a_bare_lf_dot_does_not_end_data_and_cannot_smuggle_a_second_message() {
    let smtp = spawn_smtp(&[]).await;
    let mut session = smtp.dial().await;
    assert_eq!(session.say("ehlo client").await, 250);
    session.start_message(&["you@example.com"]).await;
    let body = b"first line\n.\nmail from:<evil@example.com>\nrcpt to:<another@localhost>\ndata\nsmuggled\n.\n";
    session.send(body).await;
    assert_eq!(session.say("\r\n.").await, 250);
    let stored = smtp.new_mail("you");
    assert_eq!(stored.len(), 1);
    assert!(
        stored[0].ends_with(&[body.as_slice(), b"\r\n"].concat()),
        "{}",
        String::from_utf8_lossy(&stored[0])
    );
    assert!(smtp.new_mail("another").is_empty(), "nothing smuggled");
}

#[tokio::test]
async fn twenty_sessions_of_fifty_messages_store_exactly_a_thousand() {
    let smtp = spawn_smtp(&[]).await;
    let sessions = (0..20).map(|s| {
        let smtp = &smtp;
        async move {
            let mut session = smtp.dial().await;
            assert_eq!(session.say("ehlo client").await, 250);
            for m in 0..50 {
                session.start_message(&["you@example.com"]).await;
                assert_eq!(session.say(&format!("message {s}-{m}\r\n.")).await, 250);
            }
            assert_eq!(session.say("quit").await, 221);
        }
    });
    futures_util::future::join_all(sessions).await;
    let mut bodies: Vec<String> = smtp
        .new_mail("you")
        .iter()
        .map(|m| {
            String::from_utf8_lossy(m)
                .rsplit("+0000\r\n")
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(bodies.len(), 1000);
    bodies.sort();
    bodies.dedup();
    assert_eq!(bodies.len(), 1000, "no message stored twice");
}

#[tokio::test]
async fn a_line_over_the_data_line_limit_ends_the_session_and_keeps_nothing() {
    let smtp = spawn_smtp(&[("INLET_SMTP__MAX_DATA_LINE_BYTES", "2000")]).await;
    let mut session = smtp.dial().await;
    assert_eq!(session.say("ehlo client").await, 250);
    session.start_message(&["you@example.com"]).await;
    session.send(b"Subject: long\r\n\r\n").await;
    session.send(&vec![b'x'; 3000]).await;
    let reply = session.reply().await;
    assert!(reply.starts_with("500 "), "{reply}");
    assert!(reply.contains("line too long"), "{reply}");
    assert!(session.closed().await);
    let deadline = tokio::time::Instant::now() + inlet_testkit::WAIT;
    while !smtp.nothing_stored() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "a copy was left behind"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}
