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

/// The stored message's body: what follows the headers Inlet adds.
fn body_of(stored: &[u8], starts: &[u8]) -> Vec<u8> {
    let at = stored
        .windows(starts.len())
        .position(|w| w == starts)
        .unwrap_or_else(|| panic!("{:?}", String::from_utf8_lossy(stored)));
    stored[at..].to_vec()
}

#[tokio::test]
async fn bytes_that_are_not_utf8_are_stored_exactly() {
    let smtp = spawn_smtp(&[]).await;
    let mut session = smtp.dial().await;
    assert_eq!(session.say("ehlo client").await, 250);
    session.start_message(&["you@example.com"]).await;
    // Latin-1, then every byte value but CR and LF, then a stuffed dot.
    let mut message = b"Subject: caf\xe9\r\n\r\n".to_vec();
    message.extend((0u8..=255).filter(|b| !matches!(b, b'\r' | b'\n')));
    message.extend_from_slice(b"\r\n.. a line that began with a dot\r\n");
    let mut wire = message.clone();
    wire.extend_from_slice(b".\r\n");
    session.send(&wire).await;
    assert_eq!(session.code().await, 250, "answered at once");
    let stored = smtp.new_mail("you");
    assert_eq!(stored.len(), 1);
    let mut expected = message.clone();
    let dot = expected.windows(3).position(|w| w == b"\n..").unwrap();
    expected.remove(dot + 1);
    assert_eq!(body_of(&stored[0], b"Subject: caf\xe9"), expected);
}

#[tokio::test]
async fn a_body_sent_before_the_354_is_refused_never_read_as_commands() {
    let smtp = spawn_smtp(&[]).await;
    let mut session = smtp.dial().await;
    assert_eq!(session.say("ehlo client").await, 250);
    // All in one write, as the probe did: the body's lines looked like commands.
    let long = "x".repeat(1500);
    session
        .send(
            format!(
                "mail from:<me@me.com>\r\nrcpt to:<you@example.com>\r\ndata\r\n\
                 mail from: x\r\nhelo\r\n{long}\r\n.\r\n"
            )
            .as_bytes(),
        )
        .await;
    assert_eq!(session.code().await, 250);
    assert_eq!(session.code().await, 250);
    let refused = session.reply().await;
    assert!(refused.starts_with("554 "), "{refused}");
    assert!(refused.contains("before the 354"), "{refused}");
    assert!(session.closed().await);
    assert!(smtp.nothing_stored());
}

#[tokio::test]
async fn a_command_dripped_a_byte_at_a_time_times_out_as_a_whole() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let smtp = spawn_smtp(&[("INLET_SMTP__COMMAND_TIMEOUT_MS", "600")]).await;
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", smtp.port))
        .await
        .unwrap();
    let (read, mut write) = stream.into_split();
    let mut read = tokio::io::BufReader::new(read);
    let mut greeting = String::new();
    read.read_line(&mut greeting).await.unwrap();
    // One byte every 100 ms for up to 10 s: never idle for long, never done.
    let dripping = tokio::spawn(async move {
        for _ in 0..100 {
            if write.write_all(b"x").await.is_err() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    });
    let mut reply = String::new();
    tokio::time::timeout(inlet_testkit::WAIT, read.read_line(&mut reply))
        .await
        .expect("the server answers while the client still drips")
        .unwrap();
    assert!(reply.starts_with("421 "), "{reply}");
    assert!(
        !dripping.is_finished(),
        "answered only after the drip ended"
    );
    dripping.abort();
}

#[tokio::test]
async fn a_message_dripped_slowly_hits_the_message_deadline_and_keeps_nothing() {
    let smtp = spawn_smtp(&[("INLET_SMTP__MESSAGE_TIMEOUT_MS", "700")]).await;
    let mut session = smtp.dial().await;
    assert_eq!(session.say("ehlo client").await, 250);
    session.start_message(&["you@example.com"]).await;
    let started = tokio::time::Instant::now();
    while started.elapsed() < std::time::Duration::from_millis(1500) {
        if !session.try_send(b"line\r\n").await {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let reply = session.reply().await;
    assert!(reply.starts_with("421 "), "{reply}");
    assert!(session.closed().await);
    assert!(smtp.nothing_stored());
}

#[tokio::test]
async fn one_address_cannot_hold_every_session() {
    let smtp = spawn_smtp(&[("INLET_SMTP__MAX_SESSIONS_PER_CLIENT", "3")]).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(smtp.dial().await);
    }
    let mut fourth = inlet_testkit::smtp::connect(smtp.port).await;
    let reply = fourth.reply().await;
    assert!(reply.starts_with("421 "), "{reply}");
    assert!(reply.contains("smtp.max_sessions_per_client"), "{reply}");
    drop(held.pop());
    // The slot comes back once that session has ended.
    let deadline = tokio::time::Instant::now() + inlet_testkit::WAIT;
    loop {
        let mut again = inlet_testkit::smtp::connect(smtp.port).await;
        if again.reply().await.starts_with("220 ") {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the slot never came back"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn mail_parameters_are_checked_and_postmaster_and_trailing_dots_are_taken() {
    let smtp = spawn_smtp(&[]).await;
    let mut session = smtp.dial().await;
    assert_eq!(session.say("ehlo client").await, 250);
    for (params, code) in [
        ("SIZE=-1", 501),
        ("SIZE=abc", 501),
        ("SIZE=99999999999999999999999", 501),
        ("FROBNICATE=1", 555),
        ("BODY=8BITMIME SIZE=100", 250),
    ] {
        assert_eq!(
            session
                .say(&format!("mail from:<me@me.com> {params}"))
                .await,
            code,
            "{params}"
        );
    }
    assert_eq!(session.say("rcpt to:<you@example.com.>").await, 250);
    assert_eq!(session.say("rcpt to:<postmaster>").await, 250);
    assert_eq!(session.say("rcpt to:<Postmaster@example.com>").await, 250);
    assert_eq!(session.say("data").await, 354);
    assert_eq!(session.say("hello postmaster\r\n.").await, 250);
    // you, and postmaster (routed to you), one copy each: a recipient named
    // twice gets one, but postmaster is its own address.
    assert!(!smtp.new_mail("you").is_empty());
}
