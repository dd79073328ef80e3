//! The terminal conversation (the seed's WebSocket client): a `-> ` prompt
//! with line editing and history; what is sent is confirmed as `<= text`
//! (dim) and what arrives is shown as `=> text` above the prompt, leaving a
//! half-typed line as it was.

use futures_util::{SinkExt, StreamExt};
use rustyline::error::ReadlineError;
use rustyline::{DefaultEditor, ExternalPrinter};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

use super::connect::Socket;
use crate::error::CliError;
use crate::outcome::Outcome;
use crate::style::{dim, red, SavedTerminal, Stream};

/// What the line editor hands over.
enum Input {
    Line(String),
    /// Ctrl+C or Ctrl+D.
    Leave,
}

/// How the conversation ended.
enum Ending {
    /// The user left; the close handshake is ours to start.
    Left,
    /// The server closed, with its close frame if it sent one.
    Closed(Option<CloseFrame>),
    /// The connection broke.
    Broken(String),
}

/// Prints a failed connection the seed's way: a red error line.
pub fn failed(err: &CliError) {
    eprintln!("{}", red(Stream::Stderr, &format!("-- Error: {err} --")));
}

/// Runs the conversation until the user leaves or the socket closes.
pub async fn run(socket: Socket) -> Result<Outcome, CliError> {
    let saved = SavedTerminal::save();
    let mut editor = DefaultEditor::new().map_err(editor_error)?;
    let mut printer = editor.create_external_printer().map_err(editor_error)?;
    println!("{}", dim(Stream::Stdout, "-- Connected --"));
    let (input, mut lines) = mpsc::channel(16);
    std::thread::spawn(move || read_lines(editor, input));

    let (mut sink, mut stream) = socket.split();
    let ending = loop {
        tokio::select! {
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Text(text))) => print(&mut printer, format!("=> {text}")),
                Some(Ok(Message::Binary(bytes))) => {
                    print(&mut printer, format!("=> [{} bytes, binary]", bytes.len()));
                }
                Some(Ok(Message::Close(frame))) => break Ending::Closed(frame),
                Some(Ok(_)) => {}
                Some(Err(err)) => break Ending::Broken(err.to_string()),
                None => break Ending::Closed(None),
            },
            line = lines.recv() => match line {
                Some(Input::Line(text)) => {
                    if let Err(err) = sink.send(Message::text(text.clone())).await {
                        break Ending::Broken(err.to_string());
                    }
                    print(&mut printer, dim(Stream::Stdout, &format!("<= {text}")));
                }
                Some(Input::Leave) | None => break Ending::Left,
            },
        }
    };
    match ending {
        Ending::Left => {
            // The line editor has given the terminal back.
            let _ = sink.send(Message::Close(None)).await;
            let _ = tokio::time::timeout(CLOSE_WAIT, async {
                while let Some(Ok(message)) = stream.next().await {
                    if message.is_close() {
                        break;
                    }
                }
            })
            .await;
            println!("{}", dim(Stream::Stdout, "-- Disconnected --"));
            Ok(Outcome::Done)
        }
        Ending::Closed(frame) => {
            // The line editor still holds the terminal: take it back first.
            saved.restore();
            let why = frame
                .filter(|f| !f.reason.is_empty() || u16::from(f.code) != 1000)
                .map(|f| format!(" ({} {})", u16::from(f.code), f.reason))
                .unwrap_or_default();
            println!(
                "\r\x1b[2K{}",
                dim(Stream::Stdout, &format!("-- Disconnected{why} --"))
            );
            Ok(Outcome::Done)
        }
        Ending::Broken(reason) => {
            saved.restore();
            eprintln!(
                "\r\x1b[2K{}",
                red(Stream::Stderr, &format!("-- Error: {reason} --"))
            );
            Err(CliError::Reported)
        }
    }
}

/// How long leaving waits for the server's answer to our close frame.
const CLOSE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Prints `line` above the prompt. It ends in a newline of its own: between
/// two lines the editor is not in raw mode and the printer writes the text as
/// it is, so without one the next prompt would overwrite it.
fn print(printer: &mut impl ExternalPrinter, mut line: String) {
    line.push('\n');
    // Only fails when the terminal is gone, and then there is nobody to tell.
    let _ = printer.print(line);
}

/// The line editor's loop, on a thread of its own (it blocks).
fn read_lines(mut editor: DefaultEditor, input: mpsc::Sender<Input>) {
    loop {
        match editor.readline("-> ") {
            Ok(line) => {
                let _ = editor.add_history_entry(line.as_str());
                if input.blocking_send(Input::Line(line)).is_err() {
                    return;
                }
            }
            Err(ReadlineError::Interrupted | ReadlineError::Eof) | Err(_) => {
                let _ = input.blocking_send(Input::Leave);
                return;
            }
        }
    }
}

fn editor_error(err: ReadlineError) -> CliError {
    CliError::Io(std::io::Error::other(format!("line editor: {err}")))
}
