//! One SMTP session, from the greeting to the close, and the one owner of
//! its state. It is the driver samotop runs each connection with: it reads
//! the socket, hands samotop one command line at a time (samotop parses it,
//! applies our guard and dispatch, and queues its reply), writes the replies,
//! and takes each message's DATA itself, from the 354 to the lone dot,
//! straight into the Maildir sink. samotop's own driver and data grammar
//! are not used: they buffered without a cap, took only UTF-8, and logged
//! what clients sent at ERROR.
//!
//! Follow a message: [`Session::next_command`] reads `DATA`, samotop's
//! dispatch (`super::InletMail`) opens a Maildir delivery as the
//! transaction's sink and queues the 354, [`Session::receive_message`]
//! decodes the body ([`super::body`]) into that sink, and closing the sink
//! commits the copies before the 250 is written.

use std::future::poll_fn;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use inlet_common::disk_space::DiskGuard;
use samotop::io::tls::MayBeTls;
use samotop::mail::MailDataSink;
use samotop::smtp::{Drive, DriverControl, DriverError, Interpret, SessionService, SmtpContext};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::body::{BodyDecoder, Decoded};
use super::loose::{is_mail_from, prepare};
use crate::error::Reply;
use crate::maildir::DeliveryError;
use crate::state::SessionLimits;

/// samotop's boxed future (its `common` module is private).
type S1Fut<'a, T> = Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// The driver samotop runs every connection with.
#[derive(Debug)]
pub struct SessionDriver {
    limits: SessionLimits,
    /// Refuses `MAIL` while the data volume is nearly full.
    disk: Arc<DiskGuard>,
    /// Cancelled when the service stops: the next command gets 421.
    stop: CancellationToken,
}

impl SessionDriver {
    /// A driver with `limits`, refusing `MAIL` while `disk` is under its
    /// floor, whose sessions end when `stop` is cancelled.
    pub fn new(limits: SessionLimits, disk: Arc<DiskGuard>, stop: CancellationToken) -> Self {
        Self { limits, disk, stop }
    }
}

impl Drive for SessionDriver {
    fn drive<'a, 'i, 'x, 's, 'f>(
        &'a self,
        io: &'i mut Box<dyn MayBeTls>,
        interpretter: &'x (dyn Interpret + Send + Sync),
        state: &'s mut SmtpContext,
    ) -> S1Fut<'f, Result<(), DriverError>>
    where
        'a: 'f,
        'i: 'f,
        'x: 'f,
        's: 'f,
    {
        let client = state
            .session
            .connection
            .peer_addr
            .parse::<std::net::SocketAddr>()
            .map(|a| a.ip())
            .unwrap_or(IpAddr::from([0, 0, 0, 0]));
        Box::pin(
            Session {
                io,
                interpretter,
                state,
                limits: self.limits,
                disk: &self.disk,
                stop: &self.stop,
                client,
                input: Vec::new(),
                discarding: false,
            }
            .run(),
        )
    }
}

/// What reading the socket gave.
enum Read {
    /// More bytes are in `input`.
    Data,
    /// The client closed its side.
    Closed,
    /// The deadline passed.
    TimedOut,
    /// The service is stopping.
    Stopping,
}

/// What the next command line is.
enum Next {
    Line(Vec<u8>),
    /// Over `smtp.max_command_line_bytes`; the rest of it is dropped.
    TooLong,
    /// The session is over (the reply, if any, is queued).
    Over,
}

/// How a message's DATA ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    /// Up to its final dot.
    Whole,
    /// Cut short: the client left, timed out or sent a line too long.
    Cut,
}

/// Whether the session goes on after its replies are written.
#[derive(PartialEq, Eq)]
enum Flow {
    On,
    Over,
}

/// One session's state: nothing about it lives anywhere else.
struct Session<'s> {
    io: &'s mut Box<dyn MayBeTls>,
    interpretter: &'s (dyn Interpret + Send + Sync),
    state: &'s mut SmtpContext,
    limits: SessionLimits,
    disk: &'s DiskGuard,
    stop: &'s CancellationToken,
    client: IpAddr,
    /// Bytes read and not yet used.
    input: Vec<u8>,
    /// Dropping a command line that is too long, up to its end.
    discarding: bool,
}

impl Session<'_> {
    async fn run(mut self) -> Result<(), DriverError> {
        let service = self.state.service();
        service.prepare_session(self.io, self.state).await;
        loop {
            if self.send_replies().await? == Flow::Over {
                return Ok(());
            }
            if self.in_data() {
                self.receive_message().await?;
                continue;
            }
            match self.next_command().await? {
                Next::Line(line) => self.interpret(line).await,
                Next::TooLong => self.say(
                    Reply::CommandLineTooLong {
                        limit: self.limits.max_command_line,
                    }
                    .line(),
                ),
                Next::Over => {}
            }
        }
    }

    /// samotop has accepted DATA and given the transaction a sink.
    fn in_data(&self) -> bool {
        self.state.session.mode.is_some() && self.state.session.transaction.sink.is_some()
    }

    /// Hands one command line to samotop, which applies it and queues the reply.
    async fn interpret(&mut self, line: Vec<u8>) {
        if is_mail_from(&line) && self.disk.check().is_err() {
            tracing::info!(client.address = %self.client, "MAIL refused: the data volume is nearly full");
            return self.say(Reply::LowDisk.line());
        }
        let line = match prepare(&line, self.client) {
            Ok(line) => line,
            Err(refusal) => return self.say(refusal.line()),
        };
        let bytes = line.len();
        self.state.session.input = line;
        // samotop consumes the whole line, or says it cannot parse it.
        match self.interpretter.interpret(self.state).await {
            Ok(_) => {}
            Err(_) => {
                tracing::info!(client.address = %self.client, bytes, "command not understood: 500");
                self.state.session.say_invalid_syntax();
            }
        }
        self.state.session.input.clear();
        if self.in_data() && self.has_early_bytes() {
            self.refuse_early_data();
        }
    }

    /// Whether the client sent more after `DATA` without waiting for the 354
    /// (RFC 2920 forbids it): already read, or waiting on the socket now.
    fn has_early_bytes(&mut self) -> bool {
        if !self.input.is_empty() {
            return true;
        }
        let mut chunk = [0u8; 4096];
        let mut cx = Context::from_waker(Waker::noop());
        match Pin::new(&mut **self.io).poll_read(&mut cx, &mut chunk) {
            Poll::Ready(Ok(n)) if n > 0 => {
                self.input.extend_from_slice(&chunk[..n]);
                true
            }
            _ => false,
        }
    }

    /// A body sent before the 354: nothing of it is stored or read as
    /// commands, and the session ends (its next replies could not be in step).
    fn refuse_early_data(&mut self) {
        tracing::info!(client.address = %self.client, "message data sent before the 354: 554 and close");
        // The queued 354 is not sent; the dropped sink keeps nothing.
        self.state.session.output.clear();
        self.state.session.reset();
        self.input.clear();
        self.say(Reply::DataBefore354.line());
        self.state.session.shutdown();
    }

    /// Reads the next command line, within `smtp.command_timeout_ms` for
    /// the whole line; between commands, a stopping service answers 421.
    async fn next_command(&mut self) -> Result<Next, DriverError> {
        let deadline = Instant::now() + self.limits.command_timeout;
        loop {
            if let Some(end) = memchr::memchr(b'\n', &self.input) {
                let line: Vec<u8> = self.input.drain(..=end).collect();
                if std::mem::take(&mut self.discarding) {
                    continue;
                }
                if line.len() > self.limits.max_command_line {
                    return Ok(Next::TooLong);
                }
                return Ok(Next::Line(line));
            }
            if self.input.len() > self.limits.max_command_line {
                self.input.clear();
                if !self.discarding {
                    self.discarding = true;
                    return Ok(Next::TooLong);
                }
            }
            let between_commands = self.input.is_empty() && !self.discarding;
            match self.read(deadline, between_commands).await? {
                Read::Data => {}
                Read::Closed => {
                    self.state.session.shutdown();
                    return Ok(Next::Over);
                }
                Read::TimedOut => {
                    tracing::info!(client.address = %self.client, "SMTP command timed out: 421");
                    self.say(Reply::Timeout.line());
                    self.state.session.shutdown();
                    return Ok(Next::Over);
                }
                Read::Stopping => {
                    self.say(Reply::ShuttingDown.line());
                    self.state.session.shutdown();
                    return Ok(Next::Over);
                }
            }
        }
    }

    /// Takes one message's DATA into the transaction's sink, then commits
    /// it and replies.
    async fn receive_message(&mut self) -> Result<(), DriverError> {
        let mut sink = self
            .state
            .session
            .transaction
            .sink
            .take()
            .expect("in DATA there is a sink");
        let id = self.state.session.transaction.id.clone();
        match self.read_body(&mut sink).await? {
            Body::Whole => {
                self.commit_message(sink, &id).await;
                self.state.session.reset();
            }
            // The dropped sink keeps nothing.
            Body::Cut => self.state.session.shutdown(),
        }
        Ok(())
    }

    /// Decodes the message's DATA into `sink` up to its final dot, within
    /// `smtp.data_timeout_ms` of silence and `smtp.message_timeout_ms` in
    /// all; what follows the dot stays in `input`. A timeout or an
    /// over-long line is answered here.
    async fn read_body(
        &mut self,
        sink: &mut Pin<Box<dyn MailDataSink>>,
    ) -> Result<Body, DriverError> {
        let mut decoder = BodyDecoder::new(self.limits.max_data_line);
        let message_deadline = Instant::now() + self.limits.message_timeout;
        let mut decoded = Vec::with_capacity(8192);
        loop {
            if self.input.is_empty() {
                let idle = Instant::now() + self.limits.data_timeout;
                match self.read(idle.min(message_deadline), false).await? {
                    Read::Data => {}
                    // The client left mid-message.
                    Read::Closed | Read::Stopping => return Ok(Body::Cut),
                    Read::TimedOut => {
                        tracing::info!(client.address = %self.client, "SMTP message timed out: 421");
                        self.say(Reply::Timeout.line());
                        return Ok(Body::Cut);
                    }
                }
            }
            let input = std::mem::take(&mut self.input);
            let outcome = decoder.decode(&input, &mut decoded);
            // The sink counts the size and never fails a write: a refusal
            // (too large, disk full) comes when it is closed.
            write_all(sink, &decoded).await;
            decoded.clear();
            match outcome {
                Ok(Decoded::More) => {}
                Ok(Decoded::End { consumed }) => {
                    self.input = input[consumed..].to_vec();
                    return Ok(Body::Whole);
                }
                Err(too_long) => {
                    tracing::info!(client.address = %self.client, limit = too_long.limit, "DATA line too long: 500 and close");
                    self.say(
                        Reply::DataLineTooLong {
                            limit: too_long.limit,
                        }
                        .line(),
                    );
                    return Ok(Body::Cut);
                }
            }
        }
    }

    /// Closes the sink, which stores the message, and replies: 250 with its
    /// id, or the refusal the delivery gave.
    async fn commit_message(&mut self, mut sink: Pin<Box<dyn MailDataSink>>, id: &str) {
        match poll_fn(|cx| sink.as_mut().poll_close(cx)).await {
            Ok(()) => self.state.session.say_mail_queued(id),
            Err(err) => {
                let reply = err
                    .get_ref()
                    .and_then(|inner| inner.downcast_ref::<DeliveryError>())
                    .map_or(Reply::StoreFailed, Reply::not_stored);
                self.say(reply.line());
            }
        }
    }

    /// Reads what the client sent into `input`, until `deadline`; when
    /// `stoppable`, a stopping service ends the wait.
    async fn read(&mut self, deadline: Instant, stoppable: bool) -> Result<Read, DriverError> {
        let mut chunk = [0u8; 8192];
        let io = &mut **self.io;
        let reading = poll_fn(|cx| Pin::new(&mut *io).poll_read(cx, &mut chunk));
        let n = tokio::select! {
            biased;
            () = self.stop.cancelled(), if stoppable => return Ok(Read::Stopping),
            read = tokio::time::timeout_at(deadline, reading) => match read {
                Err(_elapsed) => return Ok(Read::TimedOut),
                Ok(Ok(0)) => return Ok(Read::Closed),
                Ok(Ok(n)) => n,
                Ok(Err(err)) => return Err(DriverError::IoFailed(err)),
            },
        };
        self.input.extend_from_slice(&chunk[..n]);
        Ok(Read::Data)
    }

    /// Writes every queued reply; carries out samotop's other controls.
    async fn send_replies(&mut self) -> Result<Flow, DriverError> {
        while let Some(control) = self.state.session.pop_control() {
            match control {
                DriverControl::Response(bytes) => {
                    write_reply(&mut **self.io, &bytes)
                        .await
                        .map_err(DriverError::WriteFailed)?;
                }
                DriverControl::Shutdown => {
                    let io = &mut **self.io;
                    poll_fn(|cx| Pin::new(&mut *io).poll_close(cx))
                        .await
                        .map_err(DriverError::CloseFailed)?;
                    return Ok(Flow::Over);
                }
                DriverControl::StartTls => {
                    // Nothing sent in plain text may count as sent inside TLS.
                    self.input.clear();
                    self.discarding = false;
                    Pin::new(&mut **self.io).encrypt();
                }
            }
        }
        Ok(Flow::On)
    }

    /// Queues a reply of our own.
    fn say(&mut self, reply: impl Into<Vec<u8>>) {
        self.state
            .session
            .say(DriverControl::Response(reply.into()));
    }
}

/// Writes all of `bytes` into the sink.
async fn write_all(sink: &mut Pin<Box<dyn MailDataSink>>, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        match poll_fn(|cx| sink.as_mut().poll_write(cx, bytes)).await {
            Ok(0) | Err(_) => return,
            Ok(n) => bytes = &bytes[n..],
        }
    }
}

/// Writes a reply and flushes it.
async fn write_reply(io: &mut dyn MayBeTls, mut bytes: &[u8]) -> io::Result<()> {
    let mut io = Pin::new(io);
    while !bytes.is_empty() {
        let n = poll_fn(|cx| io.as_mut().poll_write(cx, bytes)).await?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        bytes = &bytes[n..];
    }
    poll_fn(|cx| io.as_mut().poll_flush(cx)).await
}
