//! Reads each incoming frame's header as its bytes arrive, before actix-ws
//! holds any of the payload.
//!
//! actix-http's `ws::Parser` compares a frame's length with its limit only
//! once the whole frame is buffered, so a header declaring 2^40 bytes made
//! the gateway keep everything the client streamed after it. This guard sits
//! between the connection and actix-ws: it follows frame boundaries from the
//! declared lengths (skipping payloads without looking at them) and stops the
//! stream at the first header that breaks a rule, so the socket is closed at
//! once with the right code. It also sums the frames of a fragmented message,
//! so a socket never holds more than `websocket.max_message_bytes` of one
//! message.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::web::Bytes;
use futures_util::Stream;

/// A header that the socket must be closed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Violation {
    /// A message declared (in one frame or summed over its fragments) over the limit.
    TooBig,
    /// RSV1–3 set: no extension is negotiated, so they must be zero.
    ReservedBits,
    /// A ping, pong or close frame without FIN.
    FragmentedControl,
    /// A ping, pong or close frame declaring over 125 bytes.
    LongControl,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Violation::TooBig => "message over the size limit",
            Violation::ReservedBits => "reserved bits set without a negotiated extension",
            Violation::FragmentedControl => "a control frame must not be fragmented",
            Violation::LongControl => "a control frame must carry at most 125 bytes",
        })
    }
}

impl std::error::Error for Violation {}

impl Violation {
    /// Finds a violation inside the error actix-ws reports for a payload
    /// stream that failed (`ProtocolError::Io` around a `PayloadError::Io`).
    pub fn find(err: &io::Error) -> Option<Violation> {
        let inner = err.get_ref()?;
        if let Some(violation) = inner.downcast_ref::<Violation>() {
            return Some(*violation);
        }
        match inner.downcast_ref::<PayloadError>()? {
            PayloadError::Io(io) => io.get_ref()?.downcast_ref::<Violation>().copied(),
            _ => None,
        }
    }
}

/// Longest header: 2 bytes, an 8-byte length, a 4-byte mask.
const MAX_HEAD: usize = 14;

/// Where the guard is in the byte stream.
#[derive(Debug)]
enum Position {
    /// Collecting a header; `have` bytes of it are in `head`.
    Head { head: [u8; MAX_HEAD], have: usize },
    /// Inside a payload, with `left` bytes of it still to come.
    Payload { left: u64 },
}

/// The header-reading state machine, pure so that it can be tested and
/// fuzzed without a socket.
#[derive(Debug)]
pub struct FrameGuard {
    limit: u64,
    position: Position,
    /// Bytes declared so far by an unfinished fragmented message.
    fragmented: Option<u64>,
}

impl FrameGuard {
    /// A guard for messages of at most `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Self {
            limit: limit as u64,
            position: Position::Head {
                head: [0; MAX_HEAD],
                have: 0,
            },
            fragmented: None,
        }
    }

    /// Follows `bytes` through the frames. On a violation, gives how many
    /// leading bytes of `bytes` belong to frames before the bad header.
    pub fn inspect(&mut self, bytes: &[u8]) -> Result<(), (usize, Violation)> {
        let mut at = 0;
        while at < bytes.len() {
            match &mut self.position {
                Position::Payload { left } => {
                    let take = (*left).min((bytes.len() - at) as u64);
                    *left -= take;
                    at += take as usize;
                    if *left == 0 {
                        self.position = Position::Head {
                            head: [0; MAX_HEAD],
                            have: 0,
                        };
                    }
                }
                Position::Head { head, have } => {
                    let header_start = at.saturating_sub(*have);
                    head[*have] = bytes[at];
                    *have += 1;
                    at += 1;
                    let collected = *have;
                    let snapshot = *head;
                    match self.judge(&snapshot[..collected]) {
                        Ok(None) => {}
                        Ok(Some(length)) => {
                            self.position = if length == 0 {
                                Position::Head {
                                    head: [0; MAX_HEAD],
                                    have: 0,
                                }
                            } else {
                                Position::Payload { left: length }
                            };
                        }
                        Err(violation) => return Err((header_start, violation)),
                    }
                }
            }
        }
        Ok(())
    }

    /// Judges a partial header: `Ok(None)` while more bytes are needed,
    /// `Ok(Some(payload length))` once it is whole and allowed.
    fn judge(&mut self, head: &[u8]) -> Result<Option<u64>, Violation> {
        let first = head[0];
        if first & 0b0111_0000 != 0 {
            return Err(Violation::ReservedBits);
        }
        let [_, second, ..] = *head else {
            return Ok(None);
        };
        let fin = first & 0x80 != 0;
        let opcode = first & 0x0F;
        let control = opcode >= 0x8;
        if control && !fin {
            return Err(Violation::FragmentedControl);
        }
        let (length_bytes, short) = match second & 0x7F {
            126 => (2, None),
            127 => (8, None),
            short => (0, Some(u64::from(short))),
        };
        if head.len() < 2 + length_bytes {
            return Ok(None);
        }
        let length = short.unwrap_or_else(|| {
            head[2..2 + length_bytes]
                .iter()
                .fold(0u64, |n, b| (n << 8) | u64::from(*b))
        });
        if control && length > 125 {
            return Err(Violation::LongControl);
        }
        // Decided as soon as the length is known, before the mask arrives.
        if head.len() == 2 + length_bytes {
            self.count(opcode, fin, length)?;
        }
        let masked = second & 0x80 != 0;
        let whole = 2 + length_bytes + if masked { 4 } else { 0 };
        Ok((head.len() == whole).then_some(length))
    }

    /// Adds a data frame to the message it belongs to.
    fn count(&mut self, opcode: u8, fin: bool, length: u64) -> Result<(), Violation> {
        let message = match (opcode, self.fragmented) {
            // A continuation adds to the message it continues.
            (0x0, Some(sum)) => sum.saturating_add(length),
            // Text or binary starts a message.
            (0x1 | 0x2, _) | (0x0, None) => length,
            // Control frames and unknown opcodes (actix-ws refuses those).
            _ => return Ok(()),
        };
        if message > self.limit {
            return Err(Violation::TooBig);
        }
        self.fragmented = (!fin).then_some(message);
        Ok(())
    }
}

/// The boxed stream type that actix's `Payload` is built from.
pub type BoxedStream = Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>>;

/// The request's payload, passed through a [`FrameGuard`].
pub struct GuardedPayload {
    inner: Payload,
    guard: FrameGuard,
    /// A violation found after the bytes before it were passed on.
    pending: Option<Violation>,
    ended: bool,
}

impl GuardedPayload {
    /// Guards `inner` for messages of at most `limit` bytes.
    pub fn new(inner: Payload, limit: usize) -> Self {
        Self {
            inner,
            guard: FrameGuard::new(limit),
            pending: None,
            ended: false,
        }
    }

    fn fail(&mut self, violation: Violation) -> Poll<Option<Result<Bytes, PayloadError>>> {
        self.ended = true;
        Poll::Ready(Some(Err(PayloadError::Io(io::Error::other(violation)))))
    }
}

impl Stream for GuardedPayload {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Some(violation) = this.pending.take() {
            return this.fail(violation);
        }
        if this.ended {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(bytes))) => match this.guard.inspect(&bytes) {
                Ok(()) => Poll::Ready(Some(Ok(bytes))),
                Err((0, violation)) => this.fail(violation),
                Err((before, violation)) => {
                    this.pending = Some(violation);
                    Poll::Ready(Some(Ok(bytes.slice(..before))))
                }
            },
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(first: u8, length: u64) -> Vec<u8> {
        let mut head = vec![first];
        match length {
            0..=125 => head.push(0x80 | length as u8),
            126..=0xFFFF => {
                head.push(0x80 | 126);
                head.extend_from_slice(&(length as u16).to_be_bytes());
            }
            _ => {
                head.push(0x80 | 127);
                head.extend_from_slice(&length.to_be_bytes());
            }
        }
        head.extend_from_slice(&[1, 2, 3, 4]);
        head
    }

    fn with_payload(first: u8, length: usize) -> Vec<u8> {
        let mut bytes = frame(first, length as u64);
        bytes.resize(bytes.len() + length, b'x');
        bytes
    }

    #[test]
    fn a_declared_length_over_the_limit_is_refused_before_its_mask_and_payload() {
        let mut guard = FrameGuard::new(1000);
        let head = frame(0x82, 1 << 40);
        // The 2 + 8 bytes that carry the length are enough.
        assert_eq!(guard.inspect(&head[..10]), Err((0, Violation::TooBig)));
    }

    #[test]
    fn frames_within_the_limit_pass_whatever_the_chunking() {
        let mut stream = with_payload(0x81, 1000);
        stream.extend(with_payload(0x82, 300));
        stream.extend(with_payload(0x89, 125));
        for chunk in [1, 2, 3, 7, 64, 5000] {
            let mut guard = FrameGuard::new(1000);
            for piece in stream.chunks(chunk) {
                assert_eq!(guard.inspect(piece), Ok(()), "chunks of {chunk}");
            }
        }
    }

    #[test]
    fn fragments_are_summed_and_the_sum_is_limited() {
        let mut guard = FrameGuard::new(1000);
        let mut ok = with_payload(0x02, 400);
        ok.extend(with_payload(0x00, 400));
        // A ping between fragments is allowed and not counted.
        ok.extend(with_payload(0x89, 10));
        assert_eq!(guard.inspect(&ok), Ok(()));
        let third = with_payload(0x80, 400);
        assert_eq!(guard.inspect(&third), Err((0, Violation::TooBig)));

        // After a finished message, the count starts again.
        let mut guard = FrameGuard::new(1000);
        let mut two = with_payload(0x01, 600);
        two.extend(with_payload(0x80, 400));
        two.extend(with_payload(0x82, 1000));
        assert_eq!(guard.inspect(&two), Ok(()));
    }

    #[test]
    fn the_bytes_before_a_bad_header_are_counted_out() {
        let mut guard = FrameGuard::new(1000);
        let mut bytes = with_payload(0x81, 5);
        let good = bytes.len();
        bytes.extend(frame(0xC1, 5));
        assert_eq!(guard.inspect(&bytes), Err((good, Violation::ReservedBits)));
    }

    #[test]
    fn control_frames_must_be_whole_and_short() {
        let mut guard = FrameGuard::new(1 << 20);
        assert_eq!(
            guard.inspect(&frame(0x09, 3)),
            Err((0, Violation::FragmentedControl))
        );
        let mut guard = FrameGuard::new(1 << 20);
        assert_eq!(
            guard.inspect(&frame(0x8A, 126)),
            Err((0, Violation::LongControl))
        );
    }

    #[test]
    fn a_violation_is_found_through_the_errors_that_wrap_it() {
        let payload = PayloadError::Io(io::Error::other(Violation::TooBig));
        let wrapped = io::Error::other(payload);
        assert_eq!(Violation::find(&wrapped), Some(Violation::TooBig));
        assert_eq!(Violation::find(&io::Error::other("other")), None);
    }
}
