//! The request-head deadline for every request of a kept-alive connection.
//!
//! actix times the head of a connection's first request only
//! (`client_request_timeout`); once the next request's first byte arrives its
//! keep-alive timer stops too, so a client could trickle the second head a
//! byte a second for ever. [`HeadDeadline`] wraps the socket and gives every
//! later head the same deadline (`http.request_head_timeout_ms`) from its
//! first byte to the blank line that ends it. When the deadline passes it
//! answers 408 and ends the connection.
//!
//! It follows the exchange from what goes over the socket: an answer's
//! status line (written) ends a request, the next bytes read start a head,
//! and `\r\n\r\n` read ends it. `100 Continue` does not end a request, and
//! `101 Switching Protocols` ends HTTP on the connection (a WebSocket).
//! Whatever it cannot see (a head pipelined behind a body) it leaves alone:
//! it never cuts off a request that is past its head.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{sleep, Sleep};

/// What a 408 from this layer says.
const TIMED_OUT: &str = "the request head did not arrive in time";

/// The whole 408 answer.
fn timed_out_answer() -> Vec<u8> {
    format!(
        "HTTP/1.1 408 Request Timeout\r\ncontent-length: {}\r\n\
         content-type: text/plain; charset=utf-8\r\nconnection: close\r\n\r\n{TIMED_OUT}",
        TIMED_OUT.len()
    )
    .into_bytes()
}

/// Where the connection is in its exchange.
enum Phase {
    /// The first request: actix times its head itself.
    First,
    /// Between requests: the next byte read starts a head.
    Idle,
    /// A head is arriving; it must end by the deadline. `tail` holds its last
    /// (up to three) bytes, to find a `\r\n\r\n` split across reads.
    Head {
        deadline: Pin<Box<Sleep>>,
        tail: Tail,
    },
    /// Past the head: its body and answer are under way.
    Request,
    /// Not HTTP any more (101).
    Upgraded,
    /// The next head did not arrive in time: 408 said, the connection ends.
    TimedOut,
}

/// The last bytes of a head read so far: enough to see a blank line that
/// the next read completes. Public for the fuzz target (`tests/fuzz`).
#[derive(Default)]
pub struct Tail {
    bytes: [u8; 3],
    len: usize,
}

impl Tail {
    /// Whether the head ends (`\r\n\r\n`) within this tail and `more`.
    pub fn ends_head_with(&self, more: &[u8]) -> bool {
        let mut seam = [0u8; 6];
        let from_more = more.len().min(3);
        seam[..self.len].copy_from_slice(&self.bytes[..self.len]);
        seam[self.len..self.len + from_more].copy_from_slice(&more[..from_more]);
        let ends = |w: &[u8]| w == b"\r\n\r\n";
        seam[..self.len + from_more].windows(4).any(ends) || more.windows(4).any(ends)
    }

    /// Keeps the last three bytes of this tail followed by `more`.
    pub fn keep_end_of(&mut self, more: &[u8]) {
        if more.len() >= 3 {
            self.bytes.copy_from_slice(&more[more.len() - 3..]);
            self.len = 3;
            return;
        }
        let keep_old = (3 - more.len()).min(self.len);
        let mut kept = [0u8; 3];
        kept[..keep_old].copy_from_slice(&self.bytes[self.len - keep_old..self.len]);
        kept[keep_old..keep_old + more.len()].copy_from_slice(more);
        self.bytes = kept;
        self.len = keep_old + more.len();
    }
}

/// A connection's socket with a deadline on every request head after the first.
pub struct HeadDeadline<IO> {
    io: IO,
    limit: Duration,
    peer: Option<SocketAddr>,
    phase: Phase,
}

impl<IO> HeadDeadline<IO> {
    /// Wraps the socket of a connection from `peer`; heads get `limit`.
    pub fn new(io: IO, limit: Duration, peer: Option<SocketAddr>) -> Self {
        Self {
            io,
            limit,
            peer,
            phase: Phase::First,
        }
    }

    /// Follows what was read: a head starts on the first byte after an
    /// answer, and ends at its blank line.
    fn saw_read(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if let Phase::Idle = self.phase {
            self.phase = Phase::Head {
                deadline: Box::pin(sleep(self.limit)),
                tail: Tail::default(),
            };
        }
        if let Phase::Head { tail, .. } = &mut self.phase {
            if tail.ends_head_with(bytes) {
                self.phase = Phase::Request;
            } else {
                tail.keep_end_of(bytes);
            }
        }
    }

    /// Follows what was written: an answer's status line ends its request.
    fn saw_write(&mut self, bytes: &[u8]) {
        if !matches!(self.phase, Phase::First | Phase::Request) {
            return;
        }
        let Some(status) = bytes.strip_prefix(b"HTTP/1.1 ").and_then(|s| s.get(..3)) else {
            return;
        };
        self.phase = match status {
            b"100" => return,
            b"101" => Phase::Upgraded,
            _ => Phase::Idle,
        };
    }
}

impl<IO: AsyncWrite + Unpin> HeadDeadline<IO> {
    /// Says 408 (as far as the socket takes it now) and ends the connection.
    fn timed_out(&mut self, cx: &mut Context<'_>) -> io::Error {
        match self.peer {
            Some(peer) => tracing::warn!(
                client.address = %peer.ip(),
                http.response.status_code = 408,
                "closed a kept-alive connection: the next request head did not arrive in time"
            ),
            None => tracing::warn!(
                http.response.status_code = 408,
                "closed a kept-alive connection: the next request head did not arrive in time"
            ),
        }
        // Best effort: the client sent no full head, so it is not owed more.
        let _ = Pin::new(&mut self.io).poll_write(cx, &timed_out_answer());
        self.phase = Phase::TimedOut;
        io::Error::new(io::ErrorKind::TimedOut, "request head timed out")
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncRead for HeadDeadline<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let before = buf.filled().len();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                this.saw_read(&buf.filled()[before..]);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(err)) => Poll::Ready(Err(err)),
            Poll::Pending => {
                if let Phase::Head { deadline, .. } = &mut this.phase {
                    if deadline.as_mut().poll(cx).is_ready() {
                        return Poll::Ready(Err(this.timed_out(cx)));
                    }
                }
                Poll::Pending
            }
        }
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for HeadDeadline<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let written = Pin::new(&mut this.io).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = written {
            this.saw_write(&buf[..n]);
        }
        written
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phase_name(d: &HeadDeadline<()>) -> &'static str {
        match d.phase {
            Phase::First => "first",
            Phase::Idle => "idle",
            Phase::Head { .. } => "head",
            Phase::Request => "request",
            Phase::Upgraded => "upgraded",
            Phase::TimedOut => "timed out",
        }
    }

    #[tokio::test]
    async fn a_head_runs_from_its_first_byte_to_its_blank_line_even_split() {
        let mut d = HeadDeadline::new((), Duration::from_secs(5), None);
        d.saw_read(b"GET / HTTP/1.1\r\n\r\n");
        assert_eq!(phase_name(&d), "first", "actix times the first head");
        d.saw_write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
        assert_eq!(phase_name(&d), "idle");
        d.saw_read(b"GET / HTTP/1.1\r\nHost: x\r");
        assert_eq!(phase_name(&d), "head");
        d.saw_read(b"\n\r");
        assert_eq!(phase_name(&d), "head");
        d.saw_read(b"\n");
        assert_eq!(
            phase_name(&d),
            "request",
            "the blank line split over three reads"
        );
    }

    #[tokio::test]
    async fn a_head_read_a_byte_at_a_time_ends_at_its_blank_line_and_not_before() {
        let mut d = HeadDeadline::new((), Duration::from_secs(5), None);
        d.saw_write(b"HTTP/1.1 200 OK\r\n\r\n");
        let head = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        for (i, byte) in head.iter().enumerate() {
            assert_eq!(
                phase_name(&d),
                if i == 0 { "idle" } else { "head" },
                "at {i}"
            );
            d.saw_read(std::slice::from_ref(byte));
        }
        assert_eq!(phase_name(&d), "request");
    }

    #[tokio::test]
    async fn continue_keeps_the_request_and_switching_protocols_ends_http() {
        let mut d = HeadDeadline::new((), Duration::from_secs(5), None);
        d.saw_write(b"HTTP/1.1 200 OK\r\n\r\n");
        d.saw_read(b"POST / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n");
        d.saw_write(b"HTTP/1.1 100 Continue\r\n\r\n");
        assert_eq!(
            phase_name(&d),
            "request",
            "the body that follows is no head"
        );
        d.saw_write(b"HTTP/1.1 101 Switching Protocols\r\n\r\n");
        assert_eq!(phase_name(&d), "upgraded");
        d.saw_read(b"\x81\x05hello");
        assert_eq!(phase_name(&d), "upgraded");
    }

    #[tokio::test]
    async fn body_bytes_of_an_answer_do_not_end_a_request_that_is_not_answered() {
        let mut d = HeadDeadline::new((), Duration::from_secs(5), None);
        d.saw_write(b"HTTP/1.1 200 OK\r\n\r\n");
        d.saw_read(b"GET / HTTP/1.1\r\n\r\n");
        assert_eq!(phase_name(&d), "request");
        // A later write that merely carries the text is body, not a status line,
        // only when it does not start one: either way the request is not cut.
        d.saw_write(b"some body bytes");
        assert_eq!(phase_name(&d), "request");
    }
}
