//! The connection's bytes: plain TCP, then TLS once STARTTLS is accepted.
//! Everything about the session itself (lines, limits, deadlines, DATA)
//! is in [`super::session`].

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};
use samotop::io::tls::{Io, MayBeTls, TlsUpgrade};

/// A TLS handshake in progress (samotop's `TlsUpgrade` future).
pub(super) type Handshake = Pin<Box<dyn Future<Output = io::Result<Box<dyn Io>>> + Sync + Send>>;

/// The stream under the session.
enum Inner {
    Plain(Box<dyn Io>),
    /// STARTTLS accepted: the handshake runs before any more bytes move.
    Upgrading(Handshake),
    Tls(Box<dyn Io>),
    Failed,
}

/// The wrapped connection.
pub struct Wire {
    inner: Inner,
    /// Set by samotop when STARTTLS is offered (a certificate is configured).
    upgrade: Option<Box<dyn TlsUpgrade>>,
}

impl Wire {
    /// Wraps a plain connection.
    pub fn new(inner: Box<dyn Io>) -> Self {
        Self {
            inner: Inner::Plain(inner),
            upgrade: None,
        }
    }

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
        this.inner = Inner::Upgrading(upgrade.upgrade_to_tls(plain, String::new()));
    }

    fn can_encrypt(&self) -> bool {
        self.upgrade.is_some() && matches!(self.inner, Inner::Plain(_))
    }

    fn is_encrypted(&self) -> bool {
        matches!(self.inner, Inner::Upgrading(_) | Inner::Tls(_))
    }
}

impl AsyncRead for Wire {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let io = std::task::ready!(self.io(cx))?;
        Pin::new(io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Wire {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let io = std::task::ready!(self.io(cx))?;
        Pin::new(io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let io = std::task::ready!(self.io(cx))?;
        Pin::new(io).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let io = std::task::ready!(self.io(cx))?;
        Pin::new(io).poll_close(cx)
    }
}
