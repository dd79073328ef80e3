//! `inlet ws` and `inlet mail` driven through a real pseudo-terminal
//! (expectrl), with what the terminal shows rebuilt by a terminal emulator
//! (vt100), so the tests see the screen a person would see.

use std::time::Instant;

use expectrl::process::unix::WaitStatus;
use expectrl::session::OsSession;
use expectrl::{Expect, NBytes};
use inlet_testkit::WAIT;

use crate::helpers::{closed_port, inlet, service, smtp, stored_mail, url, Gateway, INLET};

const ROWS: u16 = 30;
const COLUMNS: u16 = 120;
/// What the line editor writes when it starts reading a line.
const BRACKETED_PASTE_ON: &[u8] = b"\x1b[?2004h";

/// `inlet` on a pseudo-terminal, and the screen it has drawn.
struct Terminal {
    session: OsSession,
    screen: vt100::Parser,
    /// Everything read, for failure messages.
    transcript: Vec<u8>,
}

impl Terminal {
    fn spawn(args: &[&str]) -> Self {
        let mut command = std::process::Command::new(INLET);
        command
            .args(args)
            .env_clear()
            .env("TERM", "xterm-256color")
            .env("INLET_TOKEN", inlet_testkit::access::ADMIN_TOKEN);
        if let Some(path) = std::env::var_os("PATH") {
            command.env("PATH", path);
        }
        let mut session = expectrl::Session::spawn(command).expect("inlet starts on a pty");
        session
            .get_process_mut()
            .set_window_size(COLUMNS, ROWS)
            .unwrap();
        session.set_expect_timeout(Some(WAIT));
        Self {
            session,
            screen: vt100::Parser::new(ROWS, COLUMNS, 0),
            transcript: Vec::new(),
        }
    }

    /// `inlet mail --server SERVER`, once it asks for the recipients.
    fn mail(server: &str) -> Self {
        let mut term = Self::spawn(&["mail", "--server", server]);
        term.wait_until("the To: prompt", |rows| rows.iter().any(|r| r == "To:"));
        term
    }

    /// Keys, as typed.
    fn keys(&mut self, keys: &str) {
        self.session.send(keys).unwrap();
    }

    /// How many times the line editor has taken the terminal for a line:
    /// it switches bracketed paste on each time, once in raw mode.
    fn prompts(&self) -> usize {
        self.transcript
            .windows(BRACKETED_PASTE_ON.len())
            .filter(|w| *w == BRACKETED_PASTE_ON)
            .count()
    }

    /// Types `line` and Enter, then waits until the line editor is ready for
    /// the next one (keys typed in between would meet a terminal in cooked
    /// mode, where Ctrl+C and Ctrl+D are not keys but signals and EOF).
    fn line(&mut self, line: &str) {
        let before = self.prompts();
        self.keys(&format!("{line}\r"));
        self.wait("the next prompt", |term| term.prompts() > before);
    }

    /// The screen's rows, trailing blanks trimmed.
    fn rows(&self) -> Vec<String> {
        self.screen
            .screen()
            .rows(0, COLUMNS)
            .map(|row| row.trim_end().to_owned())
            .collect()
    }

    /// Reads output until `done` holds for the screen.
    fn wait_until(&mut self, what: &str, done: impl Fn(&[String]) -> bool) {
        self.wait(what, |term| done(&term.rows()));
    }

    /// Reads output until `done` holds.
    fn wait(&mut self, what: &str, done: impl Fn(&Self) -> bool) {
        let deadline = Instant::now() + WAIT;
        while !done(self) {
            assert!(
                Instant::now() < deadline,
                "never saw {what}; the screen:\n{}",
                self.rows().join("\n")
            );
            match self.session.expect(NBytes(1)) {
                Ok(read) => self.take(read.as_bytes()),
                Err(err) => panic!(
                    "waiting for {what}: {err}; the screen:\n{}\nthe bytes: {:?}",
                    self.rows().join("\n"),
                    String::from_utf8_lossy(&self.transcript)
                ),
            }
        }
    }

    fn take(&mut self, bytes: &[u8]) {
        self.screen.process(bytes);
        self.transcript.extend_from_slice(bytes);
    }

    /// Waits for a row equal to `row`.
    fn wait_for_row(&mut self, row: &str) {
        self.wait_until(&format!("the row {row:?}"), |rows| {
            rows.iter().any(|r| r == row)
        });
    }

    /// The row the cursor is on.
    fn cursor_row(&self) -> String {
        let (row, _) = self.screen.screen().cursor_position();
        self.rows()[usize::from(row)].clone()
    }

    /// Reads to the end of output and gives the exit code.
    fn exit_code(mut self) -> i32 {
        let deadline = Instant::now() + WAIT;
        loop {
            assert!(Instant::now() < deadline, "inlet did not exit");
            match self.session.expect(NBytes(1)) {
                Ok(read) => self.take(read.as_bytes()),
                Err(_) => break,
            }
        }
        match self.session.get_process().wait().unwrap() {
            WaitStatus::Exited(_, code) => code,
            other => panic!(
                "inlet ended by {other:?}; the screen:\n{}",
                self.rows().join("\n")
            ),
        }
    }
}

/// Runs a blocking terminal session off the async runtime.
async fn on_terminal<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(work).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn typing_hello_shows_what_was_sent_and_the_answer() {
    let gateway = Gateway::start().await;
    let socket = gateway.ws("/");
    let code = on_terminal(move || {
        let mut term = Terminal::spawn(&["ws", &socket]);
        term.wait_for_row("-- Connected --");
        term.wait_for_row("->");
        term.line("Hello");
        term.wait_for_row("=> Websockets!");
        let rows = term.rows();
        let sent = rows
            .iter()
            .position(|r| r == "<= Hello")
            .unwrap_or_else(|| {
                panic!(
                    "the sent line is confirmed: {rows:#?} {:?}",
                    String::from_utf8_lossy(&term.transcript)
                )
            });
        let answer = rows.iter().position(|r| r == "=> Websockets!").unwrap();
        assert!(sent < answer, "{rows:#?}");
        // Ctrl+D leaves with a close frame.
        term.keys("\x04");
        term.wait_for_row("-- Disconnected --");
        term.exit_code()
    })
    .await;
    assert_eq!(code, 0);
    gateway
        .process
        .wait_for_log(|v| v["message"] == "message received" && v["fields"]["text"] == "\"Hello\"")
        .await
        .expect("the gateway got Hello");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pushed_message_lands_above_the_prompt_and_leaves_the_half_typed_line_alone() {
    let gateway = Gateway::start().await;
    let data = tempfile::tempdir().unwrap();
    let forms = service("forms", data.path(), Some(&gateway), &[]).await;
    let feed = gateway.ws("/events");
    let (typed_tx, typed_rx) = std::sync::mpsc::channel::<()>();
    // Started now (not when awaited): the post below waits for the typing.
    let terminal = tokio::task::spawn_blocking(move || {
        let mut term = Terminal::spawn(&["ws", &feed]);
        // The feed's first frame is pushed as soon as the socket opens.
        term.wait_until("the subscribed frame", |rows| {
            rows.iter()
                .any(|r| r.starts_with("=> {\"type\":\"subscribed\""))
        });
        term.keys("Hel");
        term.wait_until("the half-typed line", |rows| {
            rows.iter().any(|r| r == "-> Hel")
        });
        typed_tx.send(()).unwrap();
        term.wait_until("the pushed event", |rows| {
            rows.iter().any(|r| r.starts_with("=> {\"type\":\"event\""))
        });
        // Keep reading until the prompt is drawn again below the event.
        term.wait_until("the prompt redrawn", |rows| {
            let event = rows
                .iter()
                .position(|r| r.starts_with("=> {\"type\":\"event\""));
            let prompt = rows.iter().rposition(|r| r == "-> Hel");
            matches!((event, prompt), (Some(e), Some(p)) if p > e)
        });
        assert_eq!(term.cursor_row(), "-> Hel", "typing goes on where it was");
        term.line("lo");
        term.wait_for_row("<= Hello");
        term.keys("\x03");
        term.wait_for_row("-- Disconnected --");
        term.exit_code()
    });
    let typed = tokio::task::spawn_blocking(move || typed_rx.recv_timeout(WAIT * 2))
        .await
        .unwrap();
    if typed.is_err() {
        // The terminal side gave up first: its panic says what the screen showed.
        terminal.await.unwrap();
        unreachable!("the terminal side panics when the line is never typed");
    }
    let post = inlet(
        &["post", &url(&forms, "/"), "--json", r#"{"pushed":true}"#],
        b"",
    )
    .await;
    assert_eq!(post.code(), 0);
    assert_eq!(terminal.await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_connection_is_a_red_error_and_exit_1() {
    let closed = closed_port();
    let code = on_terminal(move || {
        let mut term = Terminal::spawn(&["ws", &format!("ws://127.0.0.1:{closed}/")]);
        term.wait_until("the error", |rows| {
            rows.iter()
                .any(|r| r.starts_with("-- Error: ") && r.ends_with(" --"))
        });
        let rows = term.rows();
        let row = rows
            .iter()
            .position(|r| r.starts_with("-- Error: "))
            .unwrap();
        assert!(rows[row].contains("cannot connect"), "{}", rows[row]);
        let cell = term.screen.screen().cell(row as u16, 0).unwrap().fgcolor();
        assert_eq!(cell, vt100::Color::Idx(1), "the error is red");
        term.exit_code()
    })
    .await;
    assert_eq!(code, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn mail_to_two_recipients_split_by_a_semicolon() {
    let data = tempfile::tempdir().unwrap();
    let (_smtp, port) = smtp(data.path()).await;
    let server = format!("127.0.0.1:{port}");
    let code = on_terminal(move || {
        let mut term = Terminal::mail(&server);
        term.line("you@example.com; another@localhost");
        term.wait_for_row("==== Message (^D to send) ====");
        term.line("hooray :)");
        term.keys("\x04");
        term.wait_for_row("... sending ...");
        term.exit_code()
    })
    .await;
    assert_eq!(code, 0);
    let stored = stored_mail(data.path());
    assert_eq!(stored.len(), 2, "{stored:?}");
    let folders: Vec<String> = stored
        .iter()
        .map(|(path, _)| {
            path.parent()
                .unwrap()
                .parent()
                .unwrap()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_ne!(folders[0], folders[1], "one copy per mailbox: {folders:?}");
    assert!(stored.iter().all(|(_, text)| text.contains("hooray :)")));
}

#[tokio::test(flavor = "multi_thread")]
async fn mail_to_an_unknown_recipient_says_so_and_exits_1() {
    let data = tempfile::tempdir().unwrap();
    let (_smtp, port) = smtp(data.path()).await;
    let server = format!("127.0.0.1:{port}");
    let code = on_terminal(move || {
        let mut term = Terminal::mail(&server);
        term.keys("unsupported@address.com\r");
        term.wait_until("the error", |rows| {
            rows.iter()
                .any(|r| r.ends_with("No mailbox for recipient \"unsupported@address.com\""))
        });
        term.exit_code()
    })
    .await;
    assert_eq!(code, 1);
    assert!(stored_mail(data.path()).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_while_writing_cancels_and_sends_nothing() {
    let data = tempfile::tempdir().unwrap();
    let (smtp, port) = smtp(data.path()).await;
    let server = format!("127.0.0.1:{port}");
    let code = on_terminal(move || {
        let mut term = Terminal::mail(&server);
        term.line("you@example.com");
        term.wait_for_row("==== Message (^D to send) ====");
        term.line("a draft");
        term.keys("\x03");
        term.wait_for_row("... cancelled ...");
        term.exit_code()
    })
    .await;
    assert_eq!(code, 130);
    assert!(stored_mail(data.path()).is_empty());
    let logs = smtp.logs().join("\n");
    assert!(!logs.contains("mail stored"), "{logs}");
}
