//! The SMTP engine: samotop, and nothing else of this service knows it.
//!
//! samotop parses the commands and keeps the transaction; this module plugs
//! our policy into it (a `MailGuard` for MAIL and RCPT, a `MailDispatch`
//! whose sink is a [`Delivery`]) and runs each accepted connection with our
//! own driver, [`session`], which owns the session: the socket, its limits
//! and deadlines, and every message's DATA. To replace samotop, replace this
//! folder: storage, policy, config and telemetry live elsewhere.

use std::future::Future as _;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use samotop::io::tls::{Io, MayBeTls};
use samotop::io::{ConnectionInfo, IoService};
use samotop::mail::{
    AcceptsDispatch, AcceptsGuard, AcceptsSessionService, AddRecipientFailure, AddRecipientResult,
    Builder, DispatchResult, MailDispatch, MailGuard, MailSetup, Name, Recipient, Service,
    StartMailFailure, StartMailResult,
};
use samotop::smtp::{Esmtp, EsmtpStartTls, SessionService, SmtpContext, SmtpParser, SmtpSession};
use tokio::task::JoinHandle;
use tokio_util::compat::TokioAsyncReadCompatExt;

pub mod body;
pub mod loose;
mod session;
mod tls;
mod wire;

use crate::delivered::Message;
use crate::error::Reply;
use crate::mailbox::Mailbox;
use crate::maildir::{Delivery, DeliveryError, Envelope};
use crate::state::Policy;
use crate::trace_header::HeaderScan;
pub use tls::{acceptor as tls_acceptor, TlsError};
use wire::Wire;

/// samotop's boxed futures (its `common` module is private).
type S1Fut<'a, T> = Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;
type S2Fut<'a, T> = Pin<Box<dyn std::future::Future<Output = T> + Sync + Send + 'a>>;

/// A built engine: hands each connection to samotop.
pub struct Engine {
    service: Service,
}

impl Engine {
    /// samotop with our policy, offering STARTTLS when `tls` is given; its
    /// sessions end (421 to the next command) once `stop` is cancelled.
    pub fn new(
        policy: Arc<Policy>,
        tls: Option<tokio_rustls::TlsAcceptor>,
        stop: tokio_util::sync::CancellationToken,
    ) -> Self {
        let driver = session::SessionDriver::new(policy.limits, Arc::clone(&policy.disk), stop);
        let mut service = Builder
            + Name::new(policy.hostname.clone())
            + InletMail(Arc::clone(&policy))
            + Esmtp.with(SmtpParser);
        if let Some(acceptor) = tls {
            service += EsmtpStartTls.with(SmtpParser, tls::Provider(acceptor));
        }
        Self {
            service: service.build_with_driver(driver),
        }
    }

    /// Runs one SMTP session on `stream` until it ends.
    pub async fn serve(
        &self,
        stream: tokio::net::TcpStream,
        peer: SocketAddr,
    ) -> Result<(), String> {
        let local = stream
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        let connection = ConnectionInfo::new(local, peer.to_string());
        let plain: Box<dyn Io> = Box::new(stream.compat());
        let io: Box<dyn MayBeTls> = Box::new(Wire::new(plain));
        self.service
            .handle(Ok(io), connection)
            .await
            .map_err(|e| e.to_string())
    }
}

/// Our guard, dispatch and ESMTP extensions, as one samotop setup.
#[derive(Debug, Clone)]
struct InletMail(Arc<Policy>);

impl<T: AcceptsGuard + AcceptsDispatch + AcceptsSessionService> MailSetup<T> for InletMail {
    fn setup(self, config: &mut T) {
        config.add_last_session_service(self.clone());
        config.add_last_guard(self.clone());
        config.add_last_dispatch(self);
    }
}

impl SessionService for InletMail {
    fn prepare_session<'a, 'i, 's, 'f>(
        &'a self,
        _io: &'i mut Box<dyn MayBeTls>,
        state: &'s mut SmtpContext,
    ) -> S1Fut<'f, ()>
    where
        'a: 'f,
        'i: 'f,
        's: 'f,
    {
        let extensions = &mut state.session.extensions;
        extensions.enable_string("SIZE", &format!("SIZE {}", self.0.max_message_bytes));
        extensions.enable(&samotop::smtp::extension::PIPELINING);
        extensions.enable(&samotop::smtp::extension::EIGHTBITMIME);
        Box::pin(std::future::ready(()))
    }
}

impl MailGuard for InletMail {
    fn start_mail<'a, 's, 'f>(&'a self, session: &'s mut SmtpSession) -> S2Fut<'f, StartMailResult>
    where
        'a: 'f,
        's: 'f,
    {
        let declared = session.transaction.mail.as_ref().and_then(|mail| {
            let samotop::smtp::command::SmtpMail::Mail(_, params) = mail else {
                return None;
            };
            params.iter().find_map(|p| {
                let (key, value) = p.split_once('=')?;
                key.eq_ignore_ascii_case("SIZE")
                    .then(|| value.parse::<u64>().ok())?
            })
        });
        let limit = self.0.max_message_bytes;
        let result = match declared {
            Some(size) if size > limit => {
                let reply = Reply::DeclaredTooLarge { limit };
                self.0.delivered.refusal(&reply);
                StartMailResult::Failed(
                    StartMailFailure::StorageExhaustedPermanently,
                    reply.to_string(),
                )
            }
            _ => {
                if let Some(helo) = &session.peer_name {
                    tracing::Span::current().record("smtp.helo", crate::maildir::header_safe(helo));
                }
                if session.transaction.id.is_empty() {
                    session.transaction.id = uuid::Uuid::now_v7().simple().to_string();
                }
                StartMailResult::Accepted
            }
        };
        Box::pin(std::future::ready(result))
    }

    fn add_recipient<'a, 's, 'f>(
        &'a self,
        session: &'s mut SmtpSession,
        rcpt: Recipient,
    ) -> S2Fut<'f, AddRecipientResult>
    where
        'a: 'f,
        's: 'f,
    {
        let policy = &self.0;
        let address = rcpt.address.address();
        let result = if session.transaction.rcpts.len() >= policy.max_recipients {
            let reply = Reply::TooManyRecipients {
                max: policy.max_recipients,
            };
            policy.delivered.refusal(&reply);
            AddRecipientResult::Failed(
                AddRecipientFailure::StorageExhaustedTemporarily,
                reply.to_string(),
            )
        } else if policy.mailboxes.resolve(&address).is_some() {
            // Inconclusive records the recipient; Accepted would not.
            AddRecipientResult::Inconclusive(rcpt)
        } else {
            tracing::info!(recipient = %crate::maildir::header_safe(&address), "no mailbox for recipient");
            policy.delivered.refusal(&Reply::NoMailbox);
            AddRecipientResult::Failed(
                AddRecipientFailure::RejectedPermanently,
                Reply::NoMailbox.to_string(),
            )
        };
        Box::pin(std::future::ready(result))
    }
}

impl MailDispatch for InletMail {
    fn open_mail_body<'a, 's, 'f>(
        &'a self,
        session: &'s mut SmtpSession,
    ) -> S1Fut<'f, DispatchResult>
    where
        'a: 'f,
        's: 'f,
    {
        let policy = Arc::clone(&self.0);
        let recipients = recipients_of(session, &policy);
        let envelope = envelope_of(session);
        let opened = if recipients.is_empty() {
            Err(samotop::mail::DispatchError::Permanent)
        } else {
            match policy.store.begin(
                &envelope,
                &recipients,
                policy.max_message_bytes,
                &policy.hostname,
            ) {
                Ok(delivery) => {
                    let message = Message {
                        envelope,
                        recipients,
                        size: 0,
                    };
                    session.transaction.sink =
                        Some(Box::pin(DeliverySink::new(delivery, message, policy)));
                    Ok(())
                }
                Err(err) => {
                    tracing::error!(error = %err, "cannot start storing a message");
                    Err(samotop::mail::DispatchError::Temporary)
                }
            }
        };
        Box::pin(std::future::ready(opened))
    }
}

/// The transaction's recipients as mailboxes; one named twice gets one copy.
fn recipients_of(session: &SmtpSession, policy: &Policy) -> Vec<Mailbox> {
    let mut seen = std::collections::HashSet::new();
    session
        .transaction
        .rcpts
        .iter()
        .filter_map(|r| policy.mailboxes.resolve(&r.address.address()))
        .filter(|m| seen.insert(m.address.to_ascii_lowercase()))
        .collect()
}

/// Who sent the transaction's message, from where, and when it arrived.
fn envelope_of(session: &SmtpSession) -> Envelope {
    Envelope {
        sender: session
            .transaction
            .mail
            .as_ref()
            .map(|m| m.sender().address())
            .unwrap_or_default(),
        helo: session.peer_name.clone().unwrap_or_default(),
        client: session
            .connection
            .peer_addr
            .parse::<SocketAddr>()
            .map(|a| a.ip())
            .unwrap_or(IpAddr::from([0, 0, 0, 0])),
        id: session.transaction.id.clone(),
        received_at: time::OffsetDateTime::now_utc(),
    }
}

/// The body's way into the Maildirs: written as it arrives, committed
/// (fsync and rename, on a blocking thread) when the client's final dot
/// closes it; the session answers 250 only after that, or the refusal this
/// sink's close gives (a [`DeliveryError`] inside the `io::Error`). Dropped
/// unclosed (the client went away), the delivery removes every copy.
struct DeliverySink {
    delivery: Option<Delivery>,
    failed: Option<DeliveryError>,
    message: Option<Message>,
    policy: Arc<Policy>,
    committing: Option<JoinHandle<Result<Vec<std::path::PathBuf>, DeliveryError>>>,
    headers: HeaderScan,
    /// The body's first bytes, held until its header section has been seen,
    /// so the trace header can be written before them.
    held: Vec<u8>,
    /// Whether `X-Inlet-Trace-Id` (and what was held) has been written.
    stamped: bool,
    /// The session's span, the parent of `smtp.message` unless the message
    /// carries a `traceparent` of its own.
    session: tracing::Span,
    /// `smtp.message`: opened at the final dot, around the commit.
    span: Option<tracing::Span>,
}

impl DeliverySink {
    fn new(delivery: Delivery, message: Message, policy: Arc<Policy>) -> Self {
        Self {
            delivery: Some(delivery),
            failed: None,
            message: Some(message),
            policy,
            committing: None,
            headers: HeaderScan::default(),
            held: Vec::new(),
            stamped: false,
            session: tracing::Span::current(),
            span: None,
        }
    }

    /// The trace the stored message belongs to: the one its own
    /// `traceparent` names, else the session's.
    fn trace_id(&self) -> Option<String> {
        use tracing_opentelemetry::OpenTelemetrySpanExt;
        match self.headers.context() {
            Some(context) => inlet_common::trace_id::of(&context),
            None => inlet_common::trace_id::of(&self.session.context()),
        }
    }

    /// Writes `X-Inlet-Trace-Id:` (first of the message's own lines, so a
    /// client's field of that name comes after it and is never read as
    /// ours), then the bytes held until the header section was seen.
    fn stamp(&mut self) {
        if self.stamped {
            return;
        }
        self.stamped = true;
        let line = self
            .trace_id()
            .map(|id| format!("X-Inlet-Trace-Id: {id}\r\n"));
        if let (Some(line), Some(delivery)) = (line, self.delivery.as_mut()) {
            if let Err(err) = delivery.write_prefix(line.as_bytes()) {
                self.delivery = None;
                self.failed = Some(err);
                return;
            }
        }
        let held = std::mem::take(&mut self.held);
        self.write_body(&held);
    }

    fn write_body(&mut self, bytes: &[u8]) {
        if let Some(delivery) = self.delivery.as_mut() {
            if let Err(err) = delivery.write(bytes) {
                self.delivery = None;
                self.failed = Some(err);
            }
        }
    }

    /// The message is refused for `err`: the span, the count and the log
    /// line say so; the error goes back to the session, which replies.
    fn refuse(&self, span: &tracing::Span, err: DeliveryError) -> io::Error {
        span.record("smtp.reply_code", i64::from(Reply::not_stored(&err).code()));
        self.policy.delivered.refused(&err);
        io::Error::other(err)
    }

    /// `smtp.message` under the session, or under the message's own
    /// `traceparent` when it carries one.
    fn message_span(&self) -> tracing::Span {
        let (sender, recipients) = self.message.as_ref().map_or((String::new(), 0), |m| {
            (
                crate::maildir::header_safe(&m.envelope.sender),
                m.recipients.len(),
            )
        });
        let span = tracing::info_span!(
            parent: &self.session,
            "smtp.message",
            smtp.message.sender = %sender,
            smtp.message.recipients = recipients as i64,
            smtp.message.size = tracing::field::Empty,
            smtp.message.paths = tracing::field::Empty,
            smtp.reply_code = tracing::field::Empty,
        );
        if let Some(context) = self.headers.context() {
            use tracing_opentelemetry::OpenTelemetrySpanExt;
            let _ = span.set_parent(context);
        }
        span
    }
}

impl futures_io::AsyncWrite for DeliverySink {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        // After a failure the rest of the body is read and dropped, so the
        // session stays in step; the failure is reported at the final dot.
        if self.failed.is_none() {
            self.headers.feed(buf);
            if self.stamped {
                self.write_body(buf);
            } else {
                self.held.extend_from_slice(buf);
                if self.headers.is_done() {
                    self.stamp();
                }
            }
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.failed.is_none() && !self.stamped {
            self.headers.finish();
            self.stamp();
        }
        if self.span.is_none() {
            self.span = Some(self.message_span());
        }
        let span = self.span.clone().expect("opened above");
        let _entered = span.enter();
        if let Some(err) = self.failed.take() {
            return Poll::Ready(Err(self.refuse(&span, err)));
        }
        if self.committing.is_none() {
            let Some(delivery) = self.delivery.take() else {
                return Poll::Ready(Ok(()));
            };
            if let Some(message) = self.message.as_mut() {
                message.size = delivery.body_bytes();
            }
            let timer = self.policy.delivered.metrics.commit_seconds.clone();
            self.committing = Some(tokio::task::spawn_blocking(move || {
                let started = std::time::Instant::now();
                let committed = delivery.commit();
                timer.observe(started.elapsed().as_secs_f64());
                committed
            }));
        }
        let handle = self.committing.as_mut().expect("a commit is under way");
        let outcome = std::task::ready!(Pin::new(handle).poll(cx));
        self.committing = None;
        let message = self.message.take().expect("one commit per message");
        match outcome {
            Ok(Ok(paths)) => {
                span.record("smtp.message.size", message.size as i64);
                let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
                span.record("smtp.message.paths", shown.join(" "));
                span.record("smtp.reply_code", 250);
                self.policy
                    .delivered
                    .stored(message, &paths, self.policy.store.root());
                Poll::Ready(Ok(()))
            }
            Ok(Err(err)) => Poll::Ready(Err(self.refuse(&span, err))),
            Err(join) => Poll::Ready(Err(io::Error::other(join))),
        }
    }
}
