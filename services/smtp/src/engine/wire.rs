//! The connection as samotop sees it, with what samotop lacks added on the
//! wire: the seed's loose commands (`helo` alone, `mail from: me@me.com`
//! without angle brackets) rewritten into the form its parser takes, a
//! longest command line (500), command and DATA idle timeouts (421 and
//! close), 552, 452 or 451 instead of samotop's 450 for a message that
//! could not be stored (over the size limit, disk full, storing failed), and
//! on shutdown 421 to the next command (a message in DATA is finished first).
//!
//! Input is handed on a whole line at a time in command mode; during DATA
//! (from the server's 354 to the client's lone dot) it passes untouched.

use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_io::{AsyncRead, AsyncWrite};
use samotop::io::tls::{Io, MayBeTls, TlsUpgrade};
use tokio::time::{Instant, Sleep};

/// Limits the wire enforces.
#[derive(Debug, Clone, Copy)]
pub struct WireLimits {
    /// Longest command line, CRLF included.
    pub max_command_line: usize,
    /// Longest line inside DATA, CRLF included; a longer one ends the
    /// session (samotop would hold it whole in memory).
    pub max_data_line: usize,
    /// Silence allowed between commands.
    pub command_timeout: Duration,
    /// Silence allowed within DATA.
    pub data_timeout: Duration,
}

/// Set by the Maildir sink when a message could not be stored, so the
/// temporary failure samotop answers (450) goes out as what really happened:
/// 552 (over the size limit), 452 (disk full) or 451 (storing failed).
#[derive(Debug, Default)]
pub struct Verdict(AtomicU16);

impl Verdict {
    /// The current message is refused with `code`.
    pub fn refuse(&self, code: u16) {
        self.0.store(code, Ordering::Release);
    }

    fn take(&self) -> Option<u16> {
        Some(self.0.swap(0, Ordering::AcqRel)).filter(|code| *code != 0)
    }
}

/// Our words for a refused message, nothing of which was kept.
fn refusal_reply(code: u16) -> &'static [u8] {
    match code {
        552 => b"552 5.3.4 message size exceeds the limit; nothing was stored\r\n",
        452 => b"452 4.3.1 no space left to store the message; nothing was stored\r\n",
        _ => b"451 4.3.0 storing the message failed; nothing was stored\r\n",
    }
}

/// A TLS handshake in progress (samotop's `TlsUpgrade` future).
pub(super) type Handshake = Pin<Box<dyn Future<Output = io::Result<Box<dyn Io>>> + Sync + Send>>;

/// The stream under the wire.
enum Inner {
    Plain(Box<dyn Io>),
    /// STARTTLS accepted: the handshake runs before any more bytes move.
    Upgrading(Handshake),
    Tls(Box<dyn Io>),
    Failed,
}

impl MayBeTls for Wire {
    fn enable_encryption(&mut self, upgrade: Box<dyn TlsUpgrade>, _name: String) {
        self.upgrade = Some(upgrade);
    }

    fn encrypt(mut self: Pin<&mut Self>) {
        let this = &mut *self;
        let (Some(upgrade), Inner::Plain(_)) = (this.upgrade.take(), &this.inner) else {
            this.inner = Inner::Failed;
            return;
        };
        let Inner::Plain(plain) = std::mem::replace(&mut this.inner, Inner::Failed) else {
            unreachable!("checked above");
        };
        // Nothing sent before the handshake may count as sent inside it.
        this.partial.clear();
        this.ready.clear();
        this.mode = Mode::Command;
        this.inner = Inner::Upgrading(upgrade.upgrade_to_tls(plain, String::new()));
    }

    fn can_encrypt(&self) -> bool {
        self.upgrade.is_some() && matches!(self.inner, Inner::Plain(_))
    }

    fn is_encrypted(&self) -> bool {
        matches!(self.inner, Inner::Upgrading(_) | Inner::Tls(_))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Command,
    /// In DATA; `matched` counts how much of CRLF "." CRLF has been seen.
    Data {
        matched: usize,
    },
    /// Discarding a command line that is too long, up to its end.
    Discarding,
}

/// The wrapped connection.
pub struct Wire {
    inner: Inner,
    /// Set by samotop when STARTTLS is offered (a certificate is configured).
    upgrade: Option<Box<dyn TlsUpgrade>>,
    mode: Mode,
    /// Raw command-mode input not yet a whole line.
    partial: Vec<u8>,
    /// Input ready for samotop.
    ready: Vec<u8>,
    /// Replies of our own, written before anything else.
    replies: Vec<u8>,
    limits: WireLimits,
    client: IpAddr,
    verdict: Arc<Verdict>,
    deadline: Pin<Box<Sleep>>,
    /// The session is over (timeout, shutdown, a DATA line too long): once
    /// our last reply is out, reads give end of stream.
    ending: bool,
    stopping: Pin<Box<tokio_util::sync::WaitForCancellationFutureOwned>>,
    /// Bytes since the last line break, inside DATA.
    data_line: usize,
}

impl Wire {
    /// Wraps `inner`, a connection from `client`.
    pub fn new(
        inner: Box<dyn Io>,
        client: IpAddr,
        limits: WireLimits,
        verdict: Arc<Verdict>,
        stop: tokio_util::sync::CancellationToken,
    ) -> Self {
        Self {
            inner: Inner::Plain(inner),
            upgrade: None,
            mode: Mode::Command,
            partial: Vec::new(),
            ready: Vec::new(),
            replies: Vec::new(),
            limits,
            client,
            verdict,
            deadline: Box::pin(tokio::time::sleep(limits.command_timeout)),
            ending: false,
            stopping: Box::pin(stop.cancelled_owned()),
            data_line: 0,
        }
    }

    fn idle_limit(&self) -> Duration {
        match self.mode {
            Mode::Data { .. } => self.limits.data_timeout,
            _ => self.limits.command_timeout,
        }
    }

    /// Takes in bytes the client sent.
    fn take_in(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            match self.mode {
                Mode::Data { mut matched } => {
                    const END: &[u8] = b"\r\n.\r\n";
                    let mut used = 0;
                    let mut too_long = false;
                    for &b in bytes {
                        used += 1;
                        self.data_line = if b == b'\n' { 0 } else { self.data_line + 1 };
                        if self.data_line > self.limits.max_data_line {
                            too_long = true;
                            break;
                        }
                        matched = if b == END[matched] {
                            matched + 1
                        } else if b == END[0] {
                            1
                        } else {
                            0
                        };
                        if matched == END.len() {
                            break;
                        }
                    }
                    if too_long {
                        // Nothing of the message is handed on; the session
                        // ends, and the dropped delivery keeps nothing.
                        let reply = format!(
                            "500 5.5.2 line too long in DATA (at most {} bytes); closing\r\n",
                            self.limits.max_data_line
                        );
                        self.replies.extend_from_slice(reply.as_bytes());
                        self.ending = true;
                        return;
                    }
                    self.ready.extend_from_slice(&bytes[..used]);
                    bytes = &bytes[used..];
                    self.mode = if matched == END.len() {
                        Mode::Command
                    } else {
                        Mode::Data { matched }
                    };
                }
                Mode::Discarding => match bytes.iter().position(|&b| b == b'\n') {
                    Some(end) => {
                        bytes = &bytes[end + 1..];
                        self.mode = Mode::Command;
                    }
                    None => bytes = &[],
                },
                Mode::Command => match bytes.iter().position(|&b| b == b'\n') {
                    Some(end) => {
                        self.partial.extend_from_slice(&bytes[..=end]);
                        bytes = &bytes[end + 1..];
                        let line = std::mem::take(&mut self.partial);
                        if line.len() > self.limits.max_command_line {
                            self.line_too_long();
                        } else {
                            let rewritten = loosen(&line, self.client);
                            self.ready.extend_from_slice(&rewritten);
                        }
                    }
                    None => {
                        self.partial.extend_from_slice(bytes);
                        bytes = &[];
                        if self.partial.len() > self.limits.max_command_line {
                            self.partial.clear();
                            self.mode = Mode::Discarding;
                            self.line_too_long();
                        }
                    }
                },
            }
        }
    }

    fn line_too_long(&mut self) {
        let reply = format!(
            "500 5.5.2 line too long (at most {} bytes)\r\n",
            self.limits.max_command_line
        );
        self.replies.extend_from_slice(reply.as_bytes());
    }
}

impl Wire {
    /// The stream to use now: after STARTTLS, the TLS one once its handshake is done.
    fn io(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<&mut Box<dyn Io>>> {
        if let Inner::Upgrading(handshake) = &mut self.inner {
            self.inner = match std::task::ready!(handshake.as_mut().poll(cx)) {
                Ok(tls) => Inner::Tls(tls),
                Err(err) => {
                    self.inner = Inner::Failed;
                    return Poll::Ready(Err(err));
                }
            };
        }
        match &mut self.inner {
            Inner::Plain(io) | Inner::Tls(io) => Poll::Ready(Ok(io)),
            _ => Poll::Ready(Err(io::ErrorKind::NotConnected.into())),
        }
    }

    /// Writes our own replies first; Ready once they are all out.
    fn poll_replies(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.replies.is_empty() {
            let replies = std::mem::take(&mut self.replies);
            let written = match self.io(cx) {
                Poll::Ready(Ok(io)) => Pin::new(io).poll_write(cx, &replies),
                Poll::Ready(Err(err)) => Poll::Ready(Err(err)),
                Poll::Pending => Poll::Pending,
            };
            self.replies = replies;
            let n = std::task::ready!(written)?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.replies.drain(..n);
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncRead for Wire {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        loop {
            // Our replies (a too-long line) go out before more is read.
            if this.poll_replies(cx)?.is_pending() {
                return Poll::Pending;
            }
            if !this.ready.is_empty() {
                // One command line per read: what follows STARTTLS must not
                // sit in samotop's buffer when the stream turns to TLS.
                let line_end = match this.mode {
                    Mode::Command => this.ready.iter().position(|&b| b == b'\n').map(|i| i + 1),
                    _ => None,
                };
                let n = buf.len().min(line_end.unwrap_or(this.ready.len()));
                buf[..n].copy_from_slice(&this.ready[..n]);
                this.ready.drain(..n);
                return Poll::Ready(Ok(n));
            }
            if this.ending {
                return Poll::Ready(Ok(0));
            }
            let mut chunk = [0u8; 8192];
            let io = match this.io(cx) {
                Poll::Ready(Ok(io)) => io,
                Poll::Ready(Err(err)) => return Poll::Ready(Err(err)),
                Poll::Pending => return Poll::Pending,
            };
            match Pin::new(io).poll_read(cx, &mut chunk) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Ok(0)),
                Poll::Ready(Ok(n)) => {
                    let limit = this.idle_limit();
                    this.take_in(&chunk[..n]);
                    this.deadline.as_mut().reset(Instant::now() + limit);
                }
                Poll::Ready(Err(err)) => return Poll::Ready(Err(err)),
                Poll::Pending => {
                    let between_commands = this.mode == Mode::Command && this.partial.is_empty();
                    if between_commands && this.stopping.as_mut().poll(cx).is_ready() {
                        this.replies.extend_from_slice(
                            b"421 4.3.2 the server is shutting down; try again later\r\n",
                        );
                        this.ending = true;
                        continue;
                    }
                    if this.deadline.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    // Silent too long: say so, then end the session.
                    tracing::info!(client.address = %this.client, "SMTP session timed out");
                    this.replies
                        .extend_from_slice(b"421 4.4.2 timeout: closing connection\r\n");
                    this.ending = true;
                }
            }
        }
    }
}

impl AsyncWrite for Wire {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        std::task::ready!(this.poll_replies(cx))?;
        if buf.starts_with(b"354") {
            this.mode = Mode::Data { matched: 2 };
            this.data_line = 0;
            let limit = this.idle_limit();
            this.deadline.as_mut().reset(Instant::now() + limit);
        }
        if buf.first() == Some(&b'4') {
            if let Some(code) = this.verdict.take() {
                // samotop's temporary failure (450) for a failed sink.
                this.replies.extend_from_slice(refusal_reply(code));
                std::task::ready!(this.poll_replies(cx))?;
                return Poll::Ready(Ok(buf.len()));
            }
        }
        let io = std::task::ready!(this.io(cx))?;
        Pin::new(io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(self.poll_replies(cx))?;
        let io = std::task::ready!(self.io(cx))?;
        Pin::new(io).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(self.poll_replies(cx))?;
        let io = std::task::ready!(self.io(cx))?;
        Pin::new(io).poll_close(cx)
    }
}

/// The seed's loose forms, as RFC 5321 writes them: `helo` alone gets the
/// client's address literal; `mail from: x` and `rcpt to: x` get angle
/// brackets. Anything else is handed on unchanged.
fn loosen(line: &[u8], client: IpAddr) -> Vec<u8> {
    let Ok(text) = std::str::from_utf8(line) else {
        return line.to_vec();
    };
    let body = text.trim_end_matches(['\r', '\n']);
    let lower = body.to_ascii_lowercase();
    if lower.trim() == "helo" || lower.trim() == "ehlo" {
        return format!("{} [{client}]\r\n", body.trim()).into_bytes();
    }
    for verb in ["mail from:", "rcpt to:"] {
        if let Some(rest) = lower.strip_prefix(verb) {
            let rest_original = &body[verb.len()..];
            let trimmed = rest_original.trim_start();
            if trimmed.starts_with('<') || rest.trim().is_empty() {
                return line.to_vec();
            }
            let (path, params) = trimmed.split_once(' ').unwrap_or((trimmed, ""));
            let params = if params.is_empty() {
                String::new()
            } else {
                format!(" {params}")
            };
            return format!("{}<{path}>{params}\r\n", &body[..verb.len()]).into_bytes();
        }
    }
    line.to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loose(line: &str) -> String {
        String::from_utf8(loosen(line.as_bytes(), IpAddr::from([192, 0, 2, 1]))).unwrap()
    }

    #[test]
    fn the_seeds_loose_commands_are_written_as_rfc_5321_has_them() {
        assert_eq!(loose("helo\r\n"), "helo [192.0.2.1]\r\n");
        assert_eq!(loose("EHLO \r\n"), "EHLO [192.0.2.1]\r\n");
        assert_eq!(
            loose("mail from: me@me.com\r\n"),
            "mail from:<me@me.com>\r\n"
        );
        assert_eq!(
            loose("RCPT TO:you@example.com\r\n"),
            "RCPT TO:<you@example.com>\r\n"
        );
        assert_eq!(
            loose("mail from: me@me.com SIZE=10\r\n"),
            "mail from:<me@me.com> SIZE=10\r\n"
        );
        // Already well formed, or something else: unchanged.
        for same in [
            "mail from:<me@me.com>\r\n",
            "helo client\r\n",
            "data\r\n",
            "rcpt to:\r\n",
        ] {
            assert_eq!(loose(same), same);
        }
    }
}
