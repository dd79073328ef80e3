//! Everything that can stop a command, each with the one line it prints and
//! its exit status (docs/cli.md).

use std::path::PathBuf;
use std::process::ExitCode;

/// Why a command stopped without doing what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A command-line value that clap cannot check (a `key=value` without `=`, …).
    #[error("{0}")]
    Usage(String),
    /// A local file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Standard input or output failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The server could not be reached, or the exchange broke off.
    #[error("{0}")]
    Network(String),
    /// The response ended before (or ran past) its announced length.
    #[error("the response was {received} bytes but Content-Length said {expected}")]
    LengthMismatch { expected: u64, received: u64 },
    /// The response is not what the command needs (not JSON, no such field, …).
    #[error("{0}")]
    Response(String),
    /// The TLS settings could not be built (a bad `--cacert`, …).
    #[error("TLS: {0}")]
    Tls(String),
    /// The SMTP server has no mailbox for a recipient (550).
    #[error("No mailbox for recipient \"{0}\"")]
    NoMailbox(String),
    /// Any other refusal from an SMTP server: its code and text.
    #[error("{code} {text}")]
    Smtp { code: String, text: String },
    /// A message could not be put together (a bad address, …).
    #[error("{0}")]
    Message(String),
    /// The command has already said what went wrong, in its own way.
    #[error("the error was reported above")]
    Reported,
}

impl CliError {
    /// The process's exit status for this error: 2 for a usage mistake, 1 otherwise.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Usage(_) => ExitCode::from(2),
            _ => ExitCode::FAILURE,
        }
    }

    /// A file error with its path.
    pub fn file(path: &std::path::Path, source: std::io::Error) -> Self {
        CliError::File {
            path: path.to_owned(),
            source,
        }
    }
}

/// One line for an error and its causes, without repeating a cause that the
/// line already says (reqwest and hyper nest the same text several deep).
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut line = err.to_string();
    let mut cause = err.source();
    while let Some(inner) = cause {
        let text = inner.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        cause = inner.source();
    }
    line
}
