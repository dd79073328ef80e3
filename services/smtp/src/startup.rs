//! Building the service (SMTP and admin listeners bound, so their ports are
//! known) and running it until it is stopped.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::web;
use inlet_common::access::PublishToken;
use inlet_common::connections::{Connections, Drained};
use inlet_common::disk_space::DiskGuard;
use inlet_common::metrics::Metrics;
use inlet_common::publish::{PublishError, Publisher};
use inlet_common::readiness::Readiness;
use inlet_common::retention::{start_sweeper, RemovalMetrics, Sweeper};
use inlet_http::paging::PageSizes;
use tracing::Instrument;

use crate::config::SmtpConfig;
use crate::delivered::Delivered;
use crate::engine::Engine;
use crate::error::Reply;
use crate::mailbox::Mailboxes;
use crate::maildir::MailStore;
use crate::messages::routes::MessagesState;
use crate::messages::MailFolder;
use crate::metrics::{DeliveryMetrics, SessionMetrics};
use crate::per_client::PerClient;
use crate::state::{Policy, SessionLimits};
use crate::sweep::Sweep;

/// Why the service could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// `gateway_url` is not usable.
    #[error(transparent)]
    Publish(#[from] PublishError),
    /// The STARTTLS certificate or key is not usable.
    #[error(transparent)]
    Tls(#[from] crate::engine::TlsError),
    /// The mail folder could not be made ready, or binding or serving failed.
    #[error("server I/O failed: {0}")]
    Io(#[from] std::io::Error),
}

/// A built SMTP service: listening, not yet serving.
pub struct Application {
    smtp_port: u16,
    admin_port: u16,
    http_port: Option<u16>,
    listener: tokio::net::TcpListener,
    admin: Server,
    readiness: Arc<Readiness>,
    engine: Arc<Engine>,
    connections: Connections,
    publisher: Publisher,
    shutdown_timeout: Duration,
    sessions: SessionMetrics,
    sweeper: Sweeper,
    per_client: PerClient,
}

impl Application {
    /// Prepares every mailbox and binds both listeners. Must run inside a
    /// tokio runtime.
    pub async fn build(config: SmtpConfig) -> Result<Self, StartupError> {
        let mail_dir = config.mail_dir();
        let (store, leftovers) = MailStore::open(&mail_dir, &config.smtp.users, &config.hostname)?;
        if leftovers > 0 {
            tracing::warn!(leftovers, "removed copies a crash left half-written");
        }
        let metrics = Arc::new(Metrics::new());
        let publisher = Publisher::start_for(
            &config.events,
            config.gateway_url.as_deref(),
            PublishToken::from_settings(&config.access),
            &config.publish,
            &metrics,
            "inlet-smtp",
        )?;
        let removals = RemovalMetrics::register(&metrics, "inlet_smtp_messages", "Messages");
        let readiness = Readiness::new(vec![mail_dir.clone()]);
        let disk = DiskGuard::watched(mail_dir.clone(), &config.disk, &readiness);
        let mut mailboxes = Mailboxes::new(&config.smtp.users, &config.smtp.domains);
        if let Some(postmaster) = &config.smtp.postmaster {
            mailboxes = mailboxes.with_postmaster(postmaster);
        }
        let policy = Arc::new(Policy {
            mailboxes,
            store,
            max_message_bytes: config.smtp.max_message_bytes,
            max_recipients: config.smtp.max_recipients,
            hostname: config.hostname.clone(),
            delivered: Delivered::new(DeliveryMetrics::register(&metrics), publisher.clone()),
            limits: SessionLimits {
                max_command_line: config.smtp.max_command_line_bytes,
                max_data_line: config.smtp.max_data_line_bytes,
                command_timeout: Duration::from_millis(config.smtp.command_timeout_ms),
                data_timeout: Duration::from_millis(config.smtp.data_timeout_ms),
                message_timeout: Duration::from_millis(config.smtp.message_timeout_ms),
            },
            disk: Arc::clone(&disk),
        });
        let tls = match (&config.smtp.tls_cert, &config.smtp.tls_key) {
            (Some(cert), Some(key)) => Some(crate::engine::tls_acceptor(cert, key)?),
            _ => None,
        };
        let starttls = tls.is_some();
        let listener = tokio::net::TcpListener::bind(config.smtp_listen).await?;
        let smtp_port = listener.local_addr()?.port();
        let admin_listener = std::net::TcpListener::bind(config.admin_listen)?;
        let admin_port = admin_listener.local_addr()?.port();
        let sweep = Arc::new(Sweep {
            folder: MailFolder::new(mail_dir.clone(), config.smtp.users.clone()),
            policy: config.mail.retention(),
            removals: removals.clone(),
            publisher: publisher.clone(),
        });
        let sweeper = start_sweeper("inlet-smtp", config.mail.sweep_interval, move |now| {
            let sweep = Arc::clone(&sweep);
            async move { sweep.run(now).await }
        });
        let sessions = SessionMetrics::register(&metrics);
        let operations = inlet_http::Service {
            name: "inlet-smtp-admin",
            settings: &config.http,
            access: &config.access,
            // This listener is the admin one: never published.
            admin: None,
            operations_need_credential: false,
            readiness: Arc::clone(&readiness),
            metrics,
            max_declared_body: inlet_http::expect::DeclaredCaps::same(0),
            refusals: None,
        };
        let (admin, http_port) = match config.listen {
            // The mail API on its own listener; the admin one beside it.
            Some(listen) => {
                let listener = std::net::TcpListener::bind(listen)?;
                let http_port = listener.local_addr()?.port();
                let state = web::Data::new(MessagesState {
                    folder: MailFolder::new(mail_dir.clone(), config.smtp.users.clone()),
                    sizes: PageSizes {
                        default_limit: config.messages.default_list_limit,
                        max_limit: config.messages.max_list_limit,
                    },
                    publisher: publisher.clone(),
                    removals,
                });
                let service = inlet_http::Service {
                    name: "inlet-smtp",
                    admin: Some(admin_listener),
                    operations_need_credential: true,
                    ..operations
                };
                let server = inlet_http::serve(
                    service,
                    listener,
                    inlet_http::with_state(state, crate::messages::routes::configure),
                )?;
                (server, Some(http_port))
            }
            None => (inlet_http::serve(operations, admin_listener, |_| {})?, None),
        };
        tracing::info!(addr = %config.smtp_listen, port = smtp_port, starttls, "inlet-smtp SMTP listening");
        let connections = Connections::new(config.smtp.max_sessions);
        Ok(Self {
            smtp_port,
            admin_port,
            http_port,
            listener,
            admin,
            readiness,
            engine: Arc::new(Engine::new(policy, tls, connections.stop_token())),
            connections,
            per_client: PerClient::new(config.smtp.max_sessions_per_client),
            publisher,
            shutdown_timeout: config.http.shutdown_timeout(),
            sessions,
            sweeper,
        })
    }

    /// The bound SMTP port.
    pub fn smtp_port(&self) -> u16 {
        self.smtp_port
    }

    /// The bound admin (health, metrics) port.
    pub fn admin_port(&self) -> u16 {
        self.admin_port
    }

    /// The mail API's bound port, when `listen` is set.
    pub fn http_port(&self) -> Option<u16> {
        self.http_port
    }

    /// Serves until `shutdown` resolves, then stops accepting, lets open
    /// sessions finish up to the shutdown deadline, and sends what the
    /// publisher still holds.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), StartupError> {
        let Self {
            listener,
            admin,
            readiness,
            engine,
            connections,
            publisher,
            shutdown_timeout,
            sessions,
            per_client,
            sweeper,
            ..
        } = self;
        let accepting = accept_loop(listener, engine, connections.clone(), sessions, per_client);
        let admin_served = inlet_http::run_until_stopped(admin, &readiness, async {
            shutdown.await;
        });
        // The admin server ends when shutdown comes; then sessions drain.
        tokio::select! {
            served = admin_served => served?,
            () = accepting => {}
        }
        if let Drained::TimedOut { open } = connections.stop(shutdown_timeout).await {
            tracing::warn!(open, "sessions still open at the shutdown deadline");
        }
        drop(sweeper);
        publisher.drain().await;
        tracing::info!("stopped");
        Ok(())
    }
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    engine: Arc<Engine>,
    connections: Connections,
    sessions: SessionMetrics,
    per_client: PerClient,
) {
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    tracing::warn!(error = %err, "accept failed");
                    continue;
                }
            },
            () = connections.stopping() => return,
        };
        // Replies go out in several small writes: without this, Nagle and
        // the client's delayed ACK hold each one back for about 40 ms.
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(error = %err, "cannot set TCP_NODELAY");
        }
        let Some(slot) = connections.try_slot() else {
            sessions.turned_away.inc();
            tokio::spawn(turn_away(stream, peer, Reply::TooManySessions));
            continue;
        };
        let Some(client_slot) = per_client.take(peer.ip()) else {
            sessions.turned_away.inc();
            tokio::spawn(turn_away(stream, peer, Reply::TooManyFromClient));
            continue;
        };
        let engine = Arc::clone(&engine);
        let sessions = sessions.clone();
        let span = tracing::info_span!(
            "smtp.session",
            otel.kind = "server",
            client.address = %peer.ip(),
            smtp.helo = tracing::field::Empty,
            smtp.outcome = tracing::field::Empty,
        );
        connections.spawn(
            slot,
            async move {
                sessions.open.inc();
                sessions.total.inc();
                let _client_slot = client_slot;
                let outcome = match engine.serve(stream, peer).await {
                    Ok(()) => "closed".to_owned(),
                    Err(err) => {
                        tracing::debug!(error = %err, "session ended with an error");
                        format!("error: {err}")
                    }
                };
                tracing::Span::current().record("smtp.outcome", outcome);
                sessions.open.dec();
            }
            .instrument(span),
        );
    }
}

/// No session slot for this client: say so (421) and close.
async fn turn_away(mut stream: tokio::net::TcpStream, peer: std::net::SocketAddr, reply: Reply) {
    use tokio::io::AsyncWriteExt;
    let reply = reply.line();
    tracing::info!(client.address = %peer.ip(), reply = reply.trim_end(), "SMTP session turned away");
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.write_all(reply.as_bytes())).await;
}
