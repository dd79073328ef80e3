//! What every command is given: the limits, TLS and tracing the global options set.

use std::sync::Arc;
use std::time::Duration;

use crate::trace::ClientTrace;

/// The resolved global options for one command.
pub struct Context {
    /// `--timeout`: connecting and each wait for the server; `None`: no limit.
    pub timeout: Option<Duration>,
    /// Roots for https and wss.
    pub tls: Arc<rustls::ClientConfig>,
    /// `--cacert`, for STARTTLS (lettre builds its own TLS settings).
    pub cacert: Option<std::path::PathBuf>,
    /// The client span (`--trace`), or none.
    pub trace: ClientTrace,
}

impl Context {
    /// Runs `work` with the `--timeout` limit, failing with `what` when it runs out.
    pub async fn bounded<T, E>(
        &self,
        what: &str,
        work: impl std::future::Future<Output = Result<T, E>>,
    ) -> Result<T, crate::error::CliError>
    where
        E: Into<crate::error::CliError>,
    {
        match self.timeout {
            None => work.await.map_err(Into::into),
            Some(limit) => match tokio::time::timeout(limit, work).await {
                Ok(done) => done.map_err(Into::into),
                Err(_) => Err(crate::error::CliError::Network(format!(
                    "{what}: no answer within {}s (--timeout)",
                    limit.as_secs_f64()
                ))),
            },
        }
    }
}
