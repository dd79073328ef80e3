//! `inlet ws` from a pipe (like websocat): every input line is one text
//! message, every message received is printed on its own line; when input
//! ends the socket is closed, and the replies the server sends before it
//! answers the close are still printed. `--once` sends one line and prints
//! one reply.

use std::io::Write;
use std::time::Duration;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio_tungstenite::tungstenite::Message;

use super::connect::Socket;
use crate::args::WsArgs;
use crate::context::Context;
use crate::error::CliError;
use crate::interrupt::Interrupt;
use crate::outcome::Outcome;

/// What a received message meant for the loop.
enum Received {
    Printed,
    Closed,
}

/// Sends stdin line by line and prints what comes back.
pub async fn run(socket: Socket, args: &WsArgs, ctx: &Context) -> Result<Outcome, CliError> {
    let (mut sink, mut stream) = socket.split();
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut interrupt = Interrupt::listen()?;
    loop {
        tokio::select! {
            line = lines.next_line() => match line? {
                Some(line) => sink.send(Message::text(line)).await.map_err(broken)?,
                None => break,
            },
            incoming = stream.next() => {
                if let Received::Closed = print(incoming)? {
                    return Ok(Outcome::Done);
                }
            }
            _ = interrupt.wait() => {
                let _ = sink.send(Message::Close(None)).await;
                return Ok(Outcome::Cancelled);
            }
        }
    }
    if args.wait > 0.0 {
        let quiet = Duration::from_secs_f64(args.wait);
        while let Ok(incoming) = tokio::time::timeout(quiet, stream.next()).await {
            if let Received::Closed = print(incoming)? {
                return Ok(Outcome::Done);
            }
        }
    }
    close(&mut sink, &mut stream, ctx).await
}

/// Sends the first input line and prints the first message that comes back.
pub async fn once(socket: Socket, ctx: &Context) -> Result<Outcome, CliError> {
    let (mut sink, mut stream) = socket.split();
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let line = lines.next_line().await?.ok_or_else(|| {
        CliError::Usage("--once sends the first input line, and there was none".to_owned())
    })?;
    sink.send(Message::text(line)).await.map_err(broken)?;
    let reply = ctx
        .bounded("waiting for the reply", async {
            loop {
                match stream.next().await {
                    Some(Ok(message @ (Message::Text(_) | Message::Binary(_)))) => {
                        return Ok::<_, CliError>(Some(message))
                    }
                    Some(Ok(Message::Close(_))) | None => return Ok(None),
                    Some(Ok(_)) => {}
                    Some(Err(err)) => return Err(broken(err)),
                }
            }
        })
        .await?;
    let Some(reply) = reply else {
        return Err(CliError::Network(
            "the server closed without replying".to_owned(),
        ));
    };
    print(Some(Ok(reply)))?;
    close(&mut sink, &mut stream, ctx).await
}

/// Starts the close handshake and prints what arrives until the server answers it.
async fn close(
    sink: &mut SplitSink<Socket, Message>,
    stream: &mut SplitStream<Socket>,
    ctx: &Context,
) -> Result<Outcome, CliError> {
    sink.send(Message::Close(None)).await.map_err(broken)?;
    ctx.bounded("closing", async {
        loop {
            if let Received::Closed = print(stream.next().await)? {
                return Ok::<_, CliError>(Outcome::Done);
            }
        }
    })
    .await
}

/// Prints one received message on stdout.
fn print(
    incoming: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>,
) -> Result<Received, CliError> {
    let mut stdout = std::io::stdout().lock();
    match incoming {
        Some(Ok(Message::Text(text))) => writeln!(stdout, "{text}")?,
        Some(Ok(Message::Binary(bytes))) => stdout.write_all(&bytes)?,
        Some(Ok(Message::Close(_))) | None => return Ok(Received::Closed),
        Some(Ok(_)) => return Ok(Received::Printed),
        Some(Err(err)) => return Err(broken(err)),
    }
    stdout.flush()?;
    Ok(Received::Printed)
}

fn broken(err: tokio_tungstenite::tungstenite::Error) -> CliError {
    match err {
        tokio_tungstenite::tungstenite::Error::ConnectionClosed => {
            CliError::Network("the connection closed".to_owned())
        }
        other => CliError::Network(format!("the connection broke: {other}")),
    }
}
