//! What actix answers by itself, before any handler runs: a head it cannot
//! parse (400) or one too large (431). actix sends those with an empty body
//! and logs each at ERROR without the client's address, so a stream of bad
//! requests would fill the logs with ERRORs that say nothing useful.
//!
//! Every connection's socket is wrapped in [`Watched`], which recognises such
//! an answer as it is written — a lone head with `content-length: 0` and one
//! of those two statuses, which no handler of ours sends (every error answer
//! we make has a body) — gives it a short body a person can read, and logs
//! one WARN line with the client's address. Telemetry turns actix's own
//! ERROR line for them off (`inlet_common::telemetry`).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The answers actix makes by itself: the head it writes, and what we say.
const REFUSALS: [(&[u8], u16, &str); 2] = [
    (
        b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n",
        400,
        "the request could not be read as HTTP/1.1",
    ),
    (
        b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n",
        431,
        "the request head is larger than this server accepts",
    ),
];

/// A connection's socket, watched for actix's own refusals.
#[derive(Debug)]
pub struct Watched<IO> {
    io: IO,
    /// The client's address, for the log line.
    peer: Option<SocketAddr>,
    /// A rewritten refusal still being written, and how much of it is out.
    pending: Option<(Vec<u8>, usize)>,
}

impl<IO> Watched<IO> {
    /// Wraps the socket of a connection from `peer`.
    pub fn new(io: IO, peer: Option<SocketAddr>) -> Self {
        Self {
            io,
            peer,
            pending: None,
        }
    }
}

/// The refusal `buf` is, if it is exactly one of actix's bodiless refusals.
fn refusal(buf: &[u8]) -> Option<(u16, &'static str)> {
    let (_, status, message) = REFUSALS.iter().find(|(head, _, _)| buf.starts_with(head))?;
    // One head and nothing after it: never a handler's answer with a body.
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    (end == buf.len()).then_some((*status, *message))
}

/// `head` (a bodiless refusal) with `message` as its plain-text body.
fn with_body(head: &[u8], message: &str) -> Vec<u8> {
    let rest = &head[head
        .windows(19)
        .position(|w| w == b"content-length: 0\r\n")
        .map_or(0, |at| at + 19)..];
    let status_line_end = head.windows(2).position(|w| w == b"\r\n").unwrap_or(0) + 2;
    let mut out = Vec::with_capacity(head.len() + message.len() + 64);
    out.extend_from_slice(&head[..status_line_end]);
    out.extend_from_slice(format!("content-length: {}\r\n", message.len()).as_bytes());
    out.extend_from_slice(b"content-type: text/plain; charset=utf-8\r\n");
    out.extend_from_slice(rest);
    out.extend_from_slice(message.as_bytes());
    out
}

impl<IO: AsyncWrite + Unpin> Watched<IO> {
    /// Writes what is left of a rewritten refusal.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((bytes, written)) = &mut self.pending {
            if *written == bytes.len() {
                self.pending = None;
                break;
            }
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &bytes[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
        }
        Poll::Ready(Ok(()))
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Watched<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Watched<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        ready!(this.poll_pending(cx))?;
        if let Some((status, message)) = refusal(buf) {
            match this.peer {
                Some(peer) => {
                    tracing::warn!(client.address = %peer.ip(), http.response.status_code = status, "refused a request that is not valid HTTP: {message}")
                }
                None => tracing::warn!(
                    http.response.status_code = status,
                    "refused a request that is not valid HTTP: {message}"
                ),
            }
            this.pending = Some((with_body(buf, message), 0));
            // All of `buf` is taken; the rewrite goes out here or on flush.
            if let Poll::Ready(Err(err)) = this.poll_pending(cx) {
                return Poll::Ready(Err(err));
            }
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut this.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD_400: &[u8] = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\ndate: Thu, 26 Nov 2026 01:22:19 GMT\r\n\r\n";

    #[test]
    fn a_bodiless_400_gets_a_body() {
        let (status, message) = refusal(HEAD_400).unwrap();
        assert_eq!(status, 400);
        let out = String::from_utf8(with_body(HEAD_400, message)).unwrap();
        assert_eq!(
            out,
            format!(
                "HTTP/1.1 400 Bad Request\r\ncontent-length: {}\r\ncontent-type: text/plain; charset=utf-8\r\nconnection: close\r\ndate: Thu, 26 Nov 2026 01:22:19 GMT\r\n\r\n{message}",
                message.len()
            )
        );
    }

    #[test]
    fn answers_with_a_body_or_more_after_them_are_left_alone() {
        let mut with_more = HEAD_400.to_vec();
        with_more.extend_from_slice(b"x");
        assert!(refusal(&with_more).is_none());
        assert!(
            refusal(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 12\r\n\r\nbad request!")
                .is_none()
        );
        assert!(refusal(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").is_none());
    }
}
