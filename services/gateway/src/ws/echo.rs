//! `/echo`: every message comes back as it was sent, text as text and
//! binary as binary, for clients to test against.

use std::future::pending;

use tracing::Instrument;

use super::peer::{Ending, Heard, Next, Peer};
use super::{message_span, Opened};

/// Runs an echo socket until it ends.
pub async fn serve(Opened { mut peer, .. }: Opened) -> (Peer, Ending) {
    let ending = loop {
        let echoed = match peer.next(pending::<()>()).await {
            Next::Message(Heard::Text(text)) => {
                let span = message_span("text", text.len());
                peer.send_text(text).instrument(span).await
            }
            Next::Message(Heard::Binary(bytes)) => {
                let span = message_span("binary", bytes.len());
                peer.send_binary(bytes).instrument(span).await
            }
            Next::Other(()) => continue,
            Next::End(ending) => break ending,
        };
        if let Err(ending) = echoed {
            break ending;
        }
    };
    (peer, ending)
}
