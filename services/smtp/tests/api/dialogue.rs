//! Sessions as clients hold them: lettre, and raw dialogues.

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::helpers::spawn_smtp;

#[tokio::test]
async fn a_message_sent_with_lettre_lands_once_in_each_mailbox_byte_exact() {
    let smtp = spawn_smtp(&[]).await;
    let email = Message::builder()
        .from("me@me.com".parse::<Mailbox>().unwrap())
        .to("you@example.com".parse::<Mailbox>().unwrap())
        .to("another@localhost".parse::<Mailbox>().unwrap())
        .subject("hello")
        .body(String::from(
            "hello there!\r\n.a line that starts with a dot\r\n..and two\r\n",
        ))
        .unwrap();
    let sent = email.formatted();
    let mailer = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(smtp.port)
        .build();
    mailer.send(email).await.expect("the server takes it");
    for (user, address) in [("you", "you@example.com"), ("another", "another@localhost")] {
        let stored = smtp.new_mail(user);
        assert_eq!(stored.len(), 1, "{user}");
        let text = String::from_utf8_lossy(&stored[0]);
        assert!(text.starts_with("Return-Path: <me@me.com>\r\n"), "{text}");
        assert!(
            text.contains(&format!("Delivered-To: {address}\r\n")),
            "{text}"
        );
        // lettre ends the data with CRLF.CRLF after a message that already
        // ends in CRLF: on the wire that is one more, empty, line.
        let on_the_wire = [sent.as_slice(), b"\r\n"].concat();
        assert!(
            stored[0].ends_with(&on_the_wire),
            "the message is stored byte for byte:\n{text}"
        );
    }
    assert!(smtp
        .folder("you", "tmp")
        .read_dir()
        .unwrap()
        .next()
        .is_none());
}

#[tokio::test]
async fn the_seeds_dialogue_gets_its_replies_and_stores_the_body() {
    let smtp = spawn_smtp(&[]).await;
    let mut session = smtp.dial().await;
    // Word for word as the seed types it, loose forms included.
    assert_eq!(session.say("helo").await, 250);
    assert_eq!(session.say("mail from: me@me.com").await, 250);
    assert_eq!(session.say("rcpt to: you@example.com").await, 250);
    assert_eq!(session.say("data").await, 354);
    session.send(b"hello there!\r\n").await;
    assert_eq!(session.say(".").await, 250);
    assert_eq!(session.say("quit").await, 221);
    let stored = smtp.new_mail("you");
    assert_eq!(stored.len(), 1);
    let text = String::from_utf8_lossy(&stored[0]);
    assert!(text.starts_with("Return-Path: <me@me.com>\r\n"), "{text}");
    assert!(
        text.contains("Received: from [127.0.0.1] ([127.0.0.1])"),
        "{text}"
    );
    assert!(stored[0].ends_with(b"+0000\r\nhello there!\r\n"), "{text}");
    assert!(smtp.new_mail("another").is_empty());
}

#[tokio::test]
async fn a_body_over_the_limit_gets_552_and_nothing_is_stored() {
    let smtp = spawn_smtp(&[("INLET_SMTP__MAX_MESSAGE_BYTES", "1000")]).await;
    let mut session = smtp.dial().await;
    assert_eq!(session.say("ehlo client").await, 250);
    // No SIZE declared: the body itself crosses the limit.
    session.start_message(&["you@example.com"]).await;
    session.send(&b"x".repeat(600)).await;
    session.send(b"\r\n").await;
    session.send(&b"y".repeat(600)).await;
    assert_eq!(session.say("\r\n.").await, 552);
    assert!(smtp.nothing_stored());
    // The session goes on: the next message fits and is stored.
    session.start_message(&["you@example.com"]).await;
    assert_eq!(session.say("small\r\n.").await, 250);
    assert_eq!(smtp.new_mail("you").len(), 1);
}

#[tokio::test]
async fn a_command_line_over_the_limit_gets_500_and_the_session_goes_on() {
    let smtp = spawn_smtp(&[("INLET_SMTP__MAX_COMMAND_LINE_BYTES", "512")]).await;
    let mut session = smtp.dial().await;
    assert_eq!(session.say("ehlo client").await, 250);
    let long = format!("mail from:<{}@me.com>", "a".repeat(600));
    assert_eq!(session.say(&long).await, 500);
    assert_eq!(session.say("noop").await, 250);
}

#[tokio::test]
async fn a_silent_client_gets_421_and_is_closed() {
    let smtp = spawn_smtp(&[("INLET_SMTP__COMMAND_TIMEOUT_MS", "200")]).await;
    let mut session = smtp.dial().await;
    assert_eq!(session.say("ehlo client").await, 250);
    // Say nothing: the server speaks first, then closes.
    let reply = session.reply().await;
    assert!(reply.starts_with("421 "), "{reply}");
    assert!(session.closed().await, "the server closes after 421");
}

#[tokio::test]
async fn recipients_without_a_mailbox_get_550_and_nothing_is_stored() {
    let smtp = spawn_smtp(&[]).await;
    let mut session = smtp.dial().await;
    assert_eq!(session.say("ehlo client").await, 250);
    assert_eq!(session.say("mail from:<me@me.com>").await, 250);
    for nobody in [
        "unknown@example.com",
        "you@other.org",
        "../x@example.com",
        "you/..@example.com",
    ] {
        assert_eq!(
            session.say(&format!("rcpt to:<{nobody}>")).await,
            550,
            "{nobody}"
        );
    }
    // With no accepted recipient there is nothing to send.
    assert_ne!(session.say("data").await, 354);
    assert!(smtp.nothing_stored());
}

#[tokio::test]
async fn ehlo_announces_size_and_a_declared_size_over_it_is_552_at_once() {
    let smtp = spawn_smtp(&[("INLET_SMTP__MAX_MESSAGE_BYTES", "1000")]).await;
    let mut session = smtp.dial().await;
    session.send(b"ehlo client\r\n").await;
    let ehlo = session.reply().await;
    assert!(ehlo.contains("SIZE 1000"), "{ehlo}");
    assert!(
        ehlo.contains("PIPELINING") && ehlo.contains("8BITMIME"),
        "{ehlo}"
    );
    assert_eq!(session.say("mail from:<me@me.com> SIZE=1001").await, 552);
    assert_eq!(session.say("mail from:<me@me.com> SIZE=1000").await, 250);
}

#[tokio::test]
async fn a_recipient_past_the_cap_gets_452_and_the_others_still_get_the_message() {
    let smtp = spawn_smtp(&[("INLET_SMTP__MAX_RECIPIENTS", "2")]).await;
    let mut session = smtp.dial().await;
    assert_eq!(session.say("ehlo client").await, 250);
    assert_eq!(session.say("mail from:<me@me.com>").await, 250);
    assert_eq!(session.say("rcpt to:<you@example.com>").await, 250);
    assert_eq!(session.say("rcpt to:<another@localhost>").await, 250);
    assert_eq!(session.say("rcpt to:<you@localhost>").await, 452);
    assert_eq!(session.say("data").await, 354);
    assert_eq!(session.say("capped\r\n.").await, 250);
    assert_eq!(smtp.new_mail("you").len(), 1);
    assert_eq!(smtp.new_mail("another").len(), 1);
}

#[tokio::test]
async fn rset_clears_the_recipients_and_each_message_goes_only_to_its_own() {
    let smtp = spawn_smtp(&[]).await;
    let mut session = smtp.dial().await;
    assert_eq!(session.say("ehlo client").await, 250);
    assert_eq!(session.say("mail from:<me@me.com>").await, 250);
    assert_eq!(session.say("rcpt to:<another@localhost>").await, 250);
    assert_eq!(session.say("rset").await, 250);
    session.start_message(&["you@example.com"]).await;
    assert_eq!(session.say("first\r\n.").await, 250);
    // The next message in the same session has its own envelope.
    session.start_message(&["another@localhost"]).await;
    assert_eq!(session.say("second\r\n.").await, 250);
    let you = smtp.new_mail("you");
    let another = smtp.new_mail("another");
    assert_eq!((you.len(), another.len()), (1, 1));
    assert!(you[0].ends_with(b"first\r\n"));
    assert!(another[0].ends_with(b"second\r\n"));
}

#[tokio::test]
async fn a_client_that_drops_mid_data_leaves_nothing() {
    let smtp = spawn_smtp(&[]).await;
    let mut session = smtp.dial().await;
    assert_eq!(session.say("ehlo client").await, 250);
    session.start_message(&["you@example.com"]).await;
    session.send(b"Subject: cut\r\n\r\nhalf of a message").await;
    // The copy exists in tmp/ while the body arrives...
    let tmp = smtp.folder("you", "tmp");
    wait_until(|| tmp.read_dir().unwrap().next().is_some()).await;
    drop(session);
    // ...and is gone once the server sees the connection end.
    wait_until(|| smtp.nothing_stored()).await;
}

#[tokio::test]
async fn the_admin_listener_reports_ready() {
    let smtp = spawn_smtp(&[]).await;
    let ready =
        inlet_testkit::http::get_text(&format!("http://127.0.0.1:{}/readyz", smtp.admin_port))
            .await;
    assert!(ready.contains("\"status\":\"ready\""), "{ready}");
    let metrics =
        inlet_testkit::http::get_text(&format!("http://127.0.0.1:{}/metrics", smtp.admin_port))
            .await;
    assert!(
        metrics.contains("inlet_smtp_messages_stored_total 0"),
        "{metrics}"
    );
}

/// Polls an observable condition (files on disk) until it holds, up to WAIT.
async fn wait_until(condition: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + inlet_testkit::WAIT;
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the condition never held"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn on_shutdown_a_message_in_data_is_finished_and_the_next_command_gets_421() {
    let mut smtp = spawn_smtp(&[]).await;
    let mut idle = smtp.dial().await;
    assert_eq!(idle.say("ehlo idle").await, 250);
    let mut busy = smtp.dial().await;
    assert_eq!(busy.say("ehlo busy").await, 250);
    busy.start_message(&["you@example.com"]).await;
    busy.send(b"begun before the stop\r\n").await;
    smtp.begin_stop();
    // The idle session is told at once.
    let told = idle.reply().await;
    assert!(told.starts_with("421 "), "{told}");
    // The one in DATA finishes its message, then hears 421.
    assert_eq!(busy.say("and ended after it\r\n.").await, 250);
    busy.send(b"mail from:<me@me.com>\r\n").await;
    let reply = busy.reply().await;
    assert!(reply.starts_with("421 "), "{reply}");
    assert_eq!(smtp.new_mail("you").len(), 1);
}

#[tokio::test]
async fn past_max_sessions_a_client_gets_421_and_refusals_are_counted_by_code() {
    let smtp = spawn_smtp(&[("INLET_SMTP__MAX_SESSIONS", "1")]).await;
    let mut first = smtp.dial().await;
    assert_eq!(first.say("ehlo first").await, 250);
    let mut second = inlet_testkit::smtp::connect(smtp.port).await;
    let turned_away = second.reply().await;
    assert!(turned_away.starts_with("421 "), "{turned_away}");
    assert!(turned_away.contains("smtp.max_sessions"), "{turned_away}");
    assert!(second.closed().await);
    // The first session is unaffected, and its refusal is counted.
    assert_eq!(first.say("mail from:<me@me.com>").await, 250);
    assert_eq!(first.say("rcpt to:<nobody@example.com>").await, 550);
    let metrics =
        inlet_testkit::http::get_text(&format!("http://127.0.0.1:{}/metrics", smtp.admin_port))
            .await;
    assert!(
        metrics.contains("inlet_smtp_refusals_total{code=\"550\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("inlet_smtp_sessions_turned_away_total 1"),
        "{metrics}"
    );
    assert!(metrics.contains("inlet_smtp_sessions_open 1"), "{metrics}");
}

#[tokio::test]
async fn when_one_copy_cannot_be_stored_the_reply_is_451_and_no_copy_remains() {
    let smtp = spawn_smtp(&[]).await;
    let mut session = smtp.dial().await;
    assert_eq!(session.say("ehlo client").await, 250);
    session
        .start_message(&["you@example.com", "another@localhost"])
        .await;
    session.send(b"for both or for none\r\n").await;
    // another's new/ goes away: its copy cannot be named after you's is.
    std::fs::remove_dir(smtp.folder("another", "new")).unwrap();
    assert_eq!(session.say(".").await, 451);
    assert!(smtp.new_mail("you").is_empty(), "you's copy was taken back");
    assert!(smtp
        .folder("you", "tmp")
        .read_dir()
        .unwrap()
        .next()
        .is_none());
}

#[tokio::test]
async fn the_101st_recipient_gets_452() {
    let smtp = spawn_smtp(&[]).await;
    let mut session = smtp.dial().await;
    assert_eq!(session.say("ehlo client").await, 250);
    assert_eq!(session.say("mail from:<me@me.com>").await, 250);
    for _ in 0..100 {
        assert_eq!(session.say("rcpt to:<you@example.com>").await, 250);
    }
    assert_eq!(session.say("rcpt to:<you@example.com>").await, 452);
}

#[tokio::test]
async fn a_recipient_named_twice_gets_one_copy() {
    let smtp = spawn_smtp(&[]).await;
    let mut session = smtp.dial().await;
    assert_eq!(session.say("ehlo client").await, 250);
    session
        .start_message(&["you@example.com", "YOU@example.com"])
        .await;
    assert_eq!(session.say("once\r\n.").await, 250);
    assert_eq!(smtp.new_mail("you").len(), 1);
}
