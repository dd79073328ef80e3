//! `inlet mail` from flags and stdin, against inlet-smtp.

use crate::helpers::{closed_port, inlet, smtp, stored_mail};

#[tokio::test]
async fn a_message_with_an_attachment_reaches_both_mailboxes() {
    let data = tempfile::tempdir().unwrap();
    let (_smtp, port) = smtp(data.path()).await;
    let server = format!("127.0.0.1:{port}");
    let files = tempfile::tempdir().unwrap();
    let attachment = files.path().join("notes.txt");
    std::fs::write(&attachment, "attached words\n").unwrap();

    let run = inlet(
        &[
            "mail",
            "--server",
            &server,
            "--to",
            "you@example.com; another@localhost",
            "--subject",
            "hooray",
            "--body",
            "hooray :)",
            "--attach",
            attachment.to_str().unwrap(),
        ],
        b"",
    )
    .await;
    assert_eq!(run.code(), 0, "{run:?}");
    assert!(run.stderr.contains("... sent: 250"), "{}", run.stderr);

    let stored = stored_mail(data.path());
    assert_eq!(stored.len(), 2, "{stored:?}");
    for (path, text) in &stored {
        assert!(text.contains("Subject: hooray"), "{path:?}: {text}");
        assert!(text.contains("From: me@me.com"), "{text}");
        assert!(text.contains("multipart/mixed"), "{text}");
        assert!(text.contains("filename=\"notes.txt\""), "{text}");
        assert!(text.contains("attached words"), "{text}");
        assert!(text.contains("hooray :)"), "{text}");
    }
}

#[tokio::test]
async fn the_text_comes_from_stdin_or_a_file() {
    let data = tempfile::tempdir().unwrap();
    let (_smtp, port) = smtp(data.path()).await;
    let server = format!("127.0.0.1:{port}");
    let run = inlet(
        &["mail", "--server", &server, "--to", "you@example.com"],
        "piped text, Ó Maidín\n".as_bytes(),
    )
    .await;
    assert_eq!(run.code(), 0, "{run:?}");
    let note = data.path().join("note.txt");
    std::fs::write(&note, "from a file\n").unwrap();
    let run = inlet(
        &[
            "mail",
            "--server",
            &server,
            "--to",
            "you@example.com",
            "--body-file",
            note.to_str().unwrap(),
        ],
        b"",
    )
    .await;
    assert_eq!(run.code(), 0, "{run:?}");
    let stored: Vec<String> = stored_mail(data.path())
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    assert_eq!(stored.len(), 2);
    assert!(
        stored.iter().any(|t| t.contains("from a file")),
        "{stored:?}"
    );
    // Non-ASCII text is encoded for transport; its charset is declared.
    assert!(
        stored.iter().any(|t| t.contains("charset=utf-8")),
        "{stored:?}"
    );
}

#[tokio::test]
async fn an_unknown_recipient_is_named_and_nothing_is_sent() {
    let data = tempfile::tempdir().unwrap();
    let (_smtp, port) = smtp(data.path()).await;
    let server = format!("127.0.0.1:{port}");
    let run = inlet(
        &[
            "mail",
            "--server",
            &server,
            "--to",
            "you@example.com, nobody@elsewhere.test",
            "--body",
            "x",
        ],
        b"",
    )
    .await;
    assert_eq!(run.code(), 1, "{run:?}");
    assert_eq!(
        run.stderr.trim(),
        "inlet: No mailbox for recipient \"nobody@elsewhere.test\""
    );
    assert!(stored_mail(data.path()).is_empty());
}

#[tokio::test]
async fn other_refusals_give_the_servers_code_and_text() {
    let data = tempfile::tempdir().unwrap();
    let smtp_bin = inlet_testkit::process::sibling_binary("inlet-smtp");
    let data_dir = data.path().display().to_string();
    let process = inlet_testkit::process::ServiceProcess::start(
        smtp_bin.to_str().unwrap(),
        &[
            ("INLET_SMTP_LISTEN", "127.0.0.1:0"),
            ("INLET_ADMIN_LISTEN", "127.0.0.1:0"),
            ("INLET_DATA_DIR", &data_dir),
            ("INLET_SMTP__MAX_MESSAGE_BYTES", "1024"),
        ],
    )
    .await;
    let port = crate::helpers::port_logged(&process, "inlet-smtp SMTP listening").await;
    let big = "x".repeat(4096);
    let run = inlet(
        &[
            "mail",
            "--server",
            &format!("127.0.0.1:{port}"),
            "--to",
            "you@example.com",
            "--body",
            &big,
        ],
        b"",
    )
    .await;
    assert_eq!(run.code(), 1, "{run:?}");
    // Refused at the end of DATA: the server's own code and words.
    assert!(
        run.stderr
            .lines()
            .any(|l| l.starts_with("inlet: 552 ") && l.contains("size")),
        "{}",
        run.stderr
    );
    assert!(stored_mail(data.path()).is_empty());

    let closed = closed_port();
    let run = inlet(
        &[
            "mail",
            "--server",
            &format!("127.0.0.1:{closed}"),
            "--to",
            "you@example.com",
            "--body",
            "x",
        ],
        b"",
    )
    .await;
    assert_eq!(run.code(), 1, "{run:?}");
    assert!(run.stderr.contains("cannot connect"), "{}", run.stderr);
}
