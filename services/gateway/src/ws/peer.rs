//! One open socket: what every endpoint shares. Reading with the size limit,
//! answering pings, pinging and closing a peer that stops answering, sending
//! with a deadline, closing with the right code, and counting it all.

use std::future::Future;
use std::time::Duration;

use actix_web::web::Bytes;
use actix_ws::{
    AggregatedMessage, AggregatedMessageStream, CloseCode, CloseReason, ProtocolError, Session,
};
use bytestring::ByteString;
use tokio::time::{sleep_until, Instant, Interval, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use super::frame_guard::Violation;
use crate::config::WebSocketSettings;
use crate::metrics::{Closed, GatewayMetrics};

/// A data message from the peer.
#[derive(Debug)]
pub enum Heard {
    /// A text message (continuations joined).
    Text(ByteString),
    /// A binary message (continuations joined).
    Binary(Bytes),
}

/// What [`Peer::next`] found.
pub enum Next<T> {
    /// The peer sent a message.
    Message(Heard),
    /// The other source the caller is waiting on produced a value.
    Other(T),
    /// The socket is over; close it with [`Peer::close`].
    End(Ending),
}

/// Why a socket ends.
#[derive(Debug)]
pub enum Ending {
    /// The peer sent a close frame (echoed back).
    PeerClosed(Option<CloseReason>),
    /// The connection went away without a close frame.
    Gone,
    /// A message over `websocket.max_message_bytes` (1009).
    TooBig(usize),
    /// A text message that is not UTF-8 (1007).
    InvalidText,
    /// A frame that breaks the protocol (1002).
    Protocol(String),
    /// No pong (nor anything else) within `websocket.pong_timeout_ms` of a ping.
    Silent,
    /// A frame waited over `websocket.send_timeout_ms` for the peer to read.
    NotReading,
    /// A subscriber fell behind the feed by more than `events.subscriber_queue`.
    Lagged {
        /// The last sequence it was sent, for its `since` on reconnecting.
        last_sent: u64,
    },
    /// A replay read back from the stream reached its bound; the
    /// subscriber reads on by reconnecting.
    MoreToReplay {
        /// The last sequence it was sent, for its `since` on reconnecting.
        last_sent: u64,
    },
    /// The feed's stream was made anew: a new epoch (1012).
    FeedRestarted,
    /// The gateway is stopping (1001).
    ShuttingDown,
}

impl Ending {
    /// The close frame the gateway sends for this ending, if any.
    fn close_reason(&self) -> Option<CloseReason> {
        let (code, description) = match self {
            Ending::PeerClosed(reason) => return Some(reason.clone().unwrap_or(CloseCode::Normal.into())),
            Ending::Gone => return None,
            Ending::TooBig(limit) => (
                CloseCode::Size,
                format!("message over websocket.max_message_bytes ({limit} bytes)"),
            ),
            Ending::InvalidText => (CloseCode::Invalid, "text message is not UTF-8".to_owned()),
            Ending::Protocol(what) => (CloseCode::Protocol, what.clone()),
            Ending::Silent => (
                CloseCode::Policy,
                "no pong within websocket.pong_timeout_ms".to_owned(),
            ),
            Ending::NotReading => (
                CloseCode::Policy,
                "not reading: a frame waited over websocket.send_timeout_ms".to_owned(),
            ),
            Ending::Lagged { last_sent } => (
                CloseCode::Again,
                format!("fell over events.subscriber_queue events behind; reconnect with since={last_sent}"),
            ),
            Ending::MoreToReplay { last_sent } => (
                CloseCode::Again,
                format!("replayed events.history events; reconnect with since={last_sent} for the rest"),
            ),
            Ending::FeedRestarted => (
                CloseCode::Restart,
                "the feed's stream was made anew (a new epoch): reconnect".to_owned(),
            ),
            Ending::ShuttingDown => (CloseCode::Away, "the gateway is shutting down".to_owned()),
        };
        Some(CloseReason {
            code,
            description: Some(description),
        })
    }
}

/// Counts of one socket's data messages, for its span.
#[derive(Debug, Default, Clone, Copy)]
pub struct Traffic {
    /// Messages received.
    pub messages_in: u64,
    /// Messages sent.
    pub messages_out: u64,
}

/// An open socket.
pub struct Peer {
    session: Session,
    stream: AggregatedMessageStream,
    closing: CancellationToken,
    ping: Interval,
    pong_timeout: Duration,
    pong_deadline: Option<Instant>,
    send_timeout: Duration,
    max_message_bytes: usize,
    metrics: GatewayMetrics,
    /// What went through so far.
    pub traffic: Traffic,
}

impl Peer {
    /// Wraps a socket just handed over by `actix_ws::handle`.
    pub fn new(
        session: Session,
        stream: actix_ws::MessageStream,
        settings: &WebSocketSettings,
        closing: CancellationToken,
        metrics: GatewayMetrics,
    ) -> Self {
        let limit = settings.max_message_bytes;
        let stream = stream
            .max_frame_size(limit)
            .aggregate_continuations()
            .max_continuation_size(limit);
        let interval = settings.ping_interval();
        let mut ping = tokio::time::interval_at(Instant::now() + interval, interval);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Self {
            session,
            stream,
            closing,
            ping,
            pong_timeout: settings.pong_timeout(),
            pong_deadline: None,
            send_timeout: settings.send_timeout(),
            max_message_bytes: limit,
            metrics,
            traffic: Traffic::default(),
        }
    }

    /// Waits for the peer's next data message, for `other` (which must be
    /// safe to drop unfinished, like a channel receive), or for the end.
    /// Pings, pongs and liveness are handled here.
    pub async fn next<T>(&mut self, other: impl Future<Output = T>) -> Next<T> {
        tokio::pin!(other);
        loop {
            let deadline = self.pong_deadline;
            tokio::select! {
                biased;
                () = self.closing.cancelled() => return Next::End(Ending::ShuttingDown),
                heard = self.stream.recv() => {
                    // Anything from the peer shows it is alive.
                    self.pong_deadline = None;
                    match heard {
                        Some(Ok(AggregatedMessage::Text(text))) => {
                            return self.count_in(Heard::Text(text));
                        }
                        Some(Ok(AggregatedMessage::Binary(bytes))) => {
                            return self.count_in(Heard::Binary(bytes));
                        }
                        Some(Ok(AggregatedMessage::Ping(payload))) => {
                            let pong = self.session.pong(&payload);
                            match tokio::time::timeout(self.send_timeout, pong).await {
                                Ok(Ok(())) => {}
                                Ok(Err(_closed)) => return Next::End(Ending::Gone),
                                // Pinging without reading the pongs.
                                Err(_elapsed) => return Next::End(Ending::NotReading),
                            }
                        }
                        Some(Ok(AggregatedMessage::Pong(_))) => {}
                        Some(Ok(AggregatedMessage::Close(reason))) => {
                            return Next::End(Ending::PeerClosed(reason));
                        }
                        Some(Err(err)) => return Next::End(self.protocol_ending(err)),
                        None => return Next::End(Ending::Gone),
                    }
                }
                value = &mut other => return Next::Other(value),
                _ = self.ping.tick() => {
                    match tokio::time::timeout(self.send_timeout, self.session.ping(b"")).await {
                        Ok(Ok(())) => {}
                        Ok(Err(_closed)) => return Next::End(Ending::Gone),
                        Err(_elapsed) => return Next::End(Ending::NotReading),
                    }
                    self.pong_deadline.get_or_insert(Instant::now() + self.pong_timeout);
                }
                () = sleep_until(deadline.unwrap_or_else(far_future)), if deadline.is_some() => {
                    return Next::End(Ending::Silent);
                }
            }
        }
    }

    /// Sends a text message, waiting at most `websocket.send_timeout_ms`
    /// for the peer to make room.
    pub async fn send_text(&mut self, text: impl Into<ByteString>) -> Result<(), Ending> {
        self.send(Message::Text(text.into())).await
    }

    /// Sends a binary message, as [`Peer::send_text`].
    pub async fn send_binary(&mut self, bytes: Bytes) -> Result<(), Ending> {
        self.send(Message::Binary(bytes)).await
    }

    async fn send(&mut self, message: Message) -> Result<(), Ending> {
        let session = &mut self.session;
        let sent = async move {
            match message {
                Message::Text(text) => session.text(text).await,
                Message::Binary(bytes) => session.binary(bytes).await,
            }
        };
        tokio::select! {
            biased;
            () = self.closing.cancelled() => Err(Ending::ShuttingDown),
            sent = tokio::time::timeout(self.send_timeout, sent) => match sent {
                Ok(Ok(())) => {
                    self.traffic.messages_out += 1;
                    self.metrics.messages_out.inc();
                    Ok(())
                }
                Ok(Err(_closed)) => Err(Ending::Gone),
                Err(_elapsed) => Err(Ending::NotReading),
            },
        }
    }

    /// Ends the socket as `ending` says: a close frame when one can still be
    /// sent (waiting at most `websocket.send_timeout_ms`). Returns the close
    /// code sent, if any.
    pub async fn close(self, ending: &Ending) -> Option<u16> {
        let reason = ending.close_reason()?;
        let code = u16::from(reason.code);
        self.metrics.closes.get_or_create(&Closed { code }).inc();
        let wait = match ending {
            // It is not reading: the frame would only wait behind the others.
            Ending::NotReading => Duration::ZERO,
            _ => self.send_timeout,
        };
        let _ = tokio::time::timeout(wait, self.session.close(Some(reason))).await;
        Some(code)
    }

    fn count_in<T>(&mut self, heard: Heard) -> Next<T> {
        self.traffic.messages_in += 1;
        self.metrics.messages_in.inc();
        Next::Message(heard)
    }

    fn protocol_ending(&self, err: ProtocolError) -> Ending {
        // What the frame guard stopped reaches us wrapped in an I/O error.
        if let ProtocolError::Io(io) = &err {
            match Violation::find(io) {
                Some(Violation::TooBig) => return Ending::TooBig(self.max_message_bytes),
                Some(other) => return Ending::Protocol(other.to_string()),
                None => {}
            }
        }
        match err {
            ProtocolError::Overflow => Ending::TooBig(self.max_message_bytes),
            // actix-ws reports joined continuations over the limit this way.
            ProtocolError::Io(io) if io.to_string().contains("maximum continuation size") => {
                Ending::TooBig(self.max_message_bytes)
            }
            ProtocolError::Io(io) if io.kind() == std::io::ErrorKind::InvalidData => {
                Ending::InvalidText
            }
            ProtocolError::Io(_) => Ending::Gone,
            other => Ending::Protocol(format!("protocol error: {other}")),
        }
    }
}

enum Message {
    Text(ByteString),
    Binary(Bytes),
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400)
}
