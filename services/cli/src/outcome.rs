//! How a command that ran to its end finished, as an exit status.

use std::process::ExitCode;

/// A finished command's result for the shell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done (exit 0).
    Done,
    /// The server answered 4xx (exit 4, like `xh --check-status`).
    ClientError,
    /// The server answered 5xx (exit 5).
    ServerError,
    /// The user cancelled (Ctrl+C) before anything was sent (exit 130).
    Cancelled,
}

impl Outcome {
    /// The outcome of an HTTP answer with `status`.
    pub fn of_status(status: reqwest::StatusCode) -> Self {
        if status.is_client_error() {
            Outcome::ClientError
        } else if status.is_server_error() {
            Outcome::ServerError
        } else {
            Outcome::Done
        }
    }

    /// The exit status.
    pub fn exit_code(self) -> ExitCode {
        match self {
            Outcome::Done => ExitCode::SUCCESS,
            Outcome::ClientError => ExitCode::from(4),
            Outcome::ServerError => ExitCode::from(5),
            Outcome::Cancelled => ExitCode::from(130),
        }
    }
}
