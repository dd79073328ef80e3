//! One SMTP session through lettre's connection: EHLO on connect, STARTTLS
//! when asked, the envelope checked recipient by recipient (so a 550 names
//! its address), then DATA.

use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::Error as SmtpError;
use lettre::Address;

use crate::context::Context;
use crate::error::CliError;

/// An open session with a server.
pub struct Session {
    connection: AsyncSmtpConnection,
    server: String,
    starttls: bool,
}

impl Session {
    /// Connects to `server` (`host:port`) and says EHLO.
    pub async fn open(server: &str, starttls: bool, ctx: &Context) -> Result<Self, CliError> {
        let hello = ClientId::default();
        let connecting =
            AsyncSmtpConnection::connect_tokio1(server, ctx.timeout, &hello, None, None);
        let mut connection = ctx
            .bounded(server, async {
                connecting.await.map_err(|e| unreachable(server, &e))
            })
            .await?;
        if starttls {
            if !connection.can_starttls() {
                return Err(CliError::Network(format!(
                    "{server}: the server does not offer STARTTLS"
                )));
            }
            let parameters = tls_parameters(server, ctx)?;
            let upgrading = connection.starttls(parameters, &hello);
            ctx.bounded("STARTTLS", async {
                upgrading.await.map_err(|e| refused(&e))
            })
            .await?;
        }
        Ok(Self {
            connection,
            server: server.to_owned(),
            starttls,
        })
    }

    /// MAIL FROM, then RCPT TO for each recipient. A 550 is
    /// [`CliError::NoMailbox`] naming the recipient.
    pub async fn envelope(
        &mut self,
        from: &Address,
        to: &[Address],
        ctx: &Context,
    ) -> Result<(), CliError> {
        let mail = self
            .connection
            .command(Mail::new(Some(from.clone()), vec![]));
        ctx.bounded("MAIL FROM", async { mail.await.map_err(|e| refused(&e)) })
            .await?;
        for recipient in to {
            let rcpt = self
                .connection
                .command(Rcpt::new(recipient.clone(), vec![]));
            ctx.bounded("RCPT TO", async {
                rcpt.await.map_err(|err| match err.status() {
                    Some(code) if code.to_string() == "550" => {
                        CliError::NoMailbox(recipient.to_string())
                    }
                    _ => refused(&err),
                })
            })
            .await?;
        }
        Ok(())
    }

    /// DATA and the message; gives the server's final reply. When the
    /// server dropped the session while the message was being written (an
    /// idle timeout), it is opened again and the envelope sent anew.
    pub async fn data(
        &mut self,
        from: &Address,
        to: &[Address],
        message: &[u8],
        ctx: &Context,
    ) -> Result<String, CliError> {
        match self.try_data(message, ctx).await {
            Err(Retry::Reconnect) => {
                *self = Session::open(&self.server.clone(), self.starttls, ctx).await?;
                self.envelope(from, to, ctx).await?;
                self.try_data(message, ctx).await.map_err(Retry::into_error)
            }
            done => done.map_err(Retry::into_error),
        }
    }

    async fn try_data(&mut self, message: &[u8], ctx: &Context) -> Result<String, Retry> {
        let data = self.connection.command(Data);
        match ctx.bounded("DATA", data).await {
            Ok(_) => {}
            Err(CliError::Network(_)) if self.connection.has_broken() => {
                return Err(Retry::Reconnect)
            }
            Err(other) => return Err(Retry::Failed(other)),
        }
        let sending = self.connection.message(message);
        let reply = ctx
            .bounded("sending the message", async {
                sending.await.map_err(|e| refused(&e))
            })
            .await
            .map_err(Retry::Failed)?;
        Ok(format!(
            "{} {}",
            reply.code(),
            reply.message().collect::<Vec<_>>().join(" ")
        ))
    }

    /// QUIT, politely; a server that is already gone is no error.
    pub async fn quit(mut self, ctx: &Context) {
        let _ = ctx
            .bounded("QUIT", async {
                self.connection.quit().await.map_err(|e| refused(&e))
            })
            .await;
    }
}

/// Why DATA did not go through.
enum Retry {
    /// The session was gone: open it again.
    Reconnect,
    Failed(CliError),
}

impl Retry {
    fn into_error(self) -> CliError {
        match self {
            Retry::Reconnect => CliError::Network("the server closed the session".to_owned()),
            Retry::Failed(err) => err,
        }
    }
}

impl From<SmtpError> for CliError {
    fn from(err: SmtpError) -> Self {
        refused(&err)
    }
}

/// The server's code and text for a refusal; a one-line cause otherwise.
fn refused(err: &SmtpError) -> CliError {
    match err.status() {
        Some(code) => CliError::Smtp {
            code: code.to_string(),
            text: std::error::Error::source(err)
                .map(ToString::to_string)
                .unwrap_or_default(),
        },
        None => CliError::Network(crate::error::chain(err)),
    }
}

fn unreachable(server: &str, err: &SmtpError) -> CliError {
    CliError::Network(format!(
        "{server}: cannot connect: {}",
        crate::error::chain(err)
    ))
}

/// STARTTLS parameters: the server's host name, the system roots and `--cacert`.
fn tls_parameters(server: &str, ctx: &Context) -> Result<TlsParameters, CliError> {
    let host = server.rsplit_once(':').map_or(server, |(host, _)| host);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let mut builder = TlsParameters::builder(host.to_owned());
    if let Some(path) = &ctx.cacert {
        let pem = std::fs::read(path).map_err(|err| CliError::file(path, err))?;
        let cert = Certificate::from_pem(&pem)
            .map_err(|err| CliError::Tls(format!("{}: {err}", path.display())))?;
        builder = builder.add_root_certificate(cert);
    }
    builder
        .build_rustls()
        .map_err(|err| CliError::Tls(err.to_string()))
}
