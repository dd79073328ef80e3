//! The seed's socket at `/`: every text message is logged with the client's
//! address, and `Hello` is answered `Websockets!`.

use std::future::pending;

use tracing::Instrument;

use super::peer::{Ending, Heard, Next, Peer};
use super::{message_span, Opened};

/// The greeting the seed answers, and its answer.
pub const GREETING: &str = "Hello";
/// What `Hello` gets.
pub const ANSWER: &str = "Websockets!";

/// Longest part of a message a log line shows.
const LOGGED_CHARS: usize = 256;

/// Runs the seed's socket until it ends.
pub async fn serve(Opened { mut peer, client }: Opened) -> (Peer, Ending) {
    let ending = loop {
        let heard = match peer.next(pending::<()>()).await {
            Next::Message(heard) => heard,
            Next::Other(()) => continue,
            Next::End(ending) => break ending,
        };
        let answered = match heard {
            Heard::Text(text) => {
                let span = message_span("text", text.len());
                async {
                    let shown: String = text.chars().take(LOGGED_CHARS).collect();
                    tracing::info!(client.address = %client, text = ?shown, "message received");
                    if &*text == GREETING {
                        peer.send_text(ANSWER).await
                    } else {
                        Ok(())
                    }
                }
                .instrument(span)
                .await
            }
            Heard::Binary(bytes) => {
                let _span = message_span("binary", bytes.len()).entered();
                tracing::info!(client.address = %client, size = bytes.len(), "binary message received");
                Ok(())
            }
        };
        if let Err(ending) = answered {
            break ending;
        }
    };
    (peer, ending)
}
