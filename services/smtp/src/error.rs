//! The one table of SMTP replies Inlet words itself: code, enhanced status
//! (RFC 3463) and text. The delivery, the session driver, the parameter
//! check and the accept loop all answer from here; samotop words the rest
//! (greeting, 250s, its own syntax errors).
//!
//! The three refusals samotop writes for our policy (a declared size, too
//! many recipients, no mailbox) are rows here too: we choose them, samotop
//! renders them with its fixed text; [`Reply::code`] is what they count as.

use crate::maildir::DeliveryError;

/// A reply of ours, with what the client needs to know to act on it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Reply {
    /// A body sent before the 354 (RFC 2920, 3.1).
    #[error("message data sent before the 354 reply (RFC 2920); nothing was stored, closing")]
    DataBefore354,
    /// No complete command or message within its deadline.
    #[error("timeout: closing connection")]
    Timeout,
    /// The service is stopping.
    #[error("the server is shutting down; try again later")]
    ShuttingDown,
    /// Past `smtp.max_sessions`.
    #[error("too many sessions (smtp.max_sessions); try again later")]
    TooManySessions,
    /// Past `smtp.max_sessions_per_client`.
    #[error("too many sessions from your address (smtp.max_sessions_per_client); try again later")]
    TooManyFromClient,
    /// A command line over `smtp.max_command_line_bytes`; the session goes on.
    #[error("line too long (at most {limit} bytes)")]
    CommandLineTooLong {
        /// The configured limit.
        limit: usize,
    },
    /// A DATA line over `smtp.max_data_line_bytes`; the session ends.
    #[error("line too long in DATA (at most {limit} bytes); closing")]
    DataLineTooLong {
        /// The configured limit.
        limit: usize,
    },
    /// `MAIL FROM … SIZE=` that is not a number.
    #[error("SIZE= takes the message size in bytes (a number)")]
    SizeNotANumber,
    /// `MAIL FROM … BODY=` other than 7BIT or 8BITMIME.
    #[error("BODY= takes 7BIT or 8BITMIME")]
    BodyNotOffered,
    /// A MAIL or RCPT parameter we do not offer.
    #[error("{verb} parameter {name} is not supported")]
    ParameterNotSupported {
        /// `MAIL` or `RCPT`.
        verb: &'static str,
        /// The parameter's name (printable, at most 32 characters).
        name: String,
    },
    /// The body went over `smtp.max_message_bytes`.
    #[error("message size exceeds the limit; nothing was stored")]
    MessageTooLarge,
    /// The disk is full.
    #[error("no space left to store the message; nothing was stored")]
    DiskFull,
    /// The data volume is under `disk.min_free_bytes`: no new message is taken.
    #[error("the server's disk is nearly full; try again later")]
    LowDisk,
    /// Writing a copy failed.
    #[error("storing the message failed; nothing was stored")]
    StoreFailed,
    /// `SIZE=` declares more than `smtp.max_message_bytes` (samotop's words).
    #[error("message size exceeds the limit of {limit} bytes")]
    DeclaredTooLarge {
        /// The configured limit.
        limit: u64,
    },
    /// More than `smtp.max_recipients` (samotop's words).
    #[error("too many recipients (at most {max})")]
    TooManyRecipients {
        /// The configured limit.
        max: usize,
    },
    /// No mailbox for the recipient (samotop's words).
    #[error("mailbox not available")]
    NoMailbox,
}

impl Reply {
    /// The reply code and enhanced status code.
    pub const fn status(&self) -> (u16, &'static str) {
        match self {
            Reply::DataBefore354 => (554, "5.5.0"),
            Reply::Timeout => (421, "4.4.2"),
            Reply::ShuttingDown | Reply::TooManySessions => (421, "4.3.2"),
            Reply::TooManyFromClient => (421, "4.7.0"),
            Reply::CommandLineTooLong { .. } | Reply::DataLineTooLong { .. } => (500, "5.5.2"),
            Reply::SizeNotANumber | Reply::BodyNotOffered => (501, "5.5.4"),
            Reply::ParameterNotSupported { .. } => (555, "5.5.4"),
            Reply::MessageTooLarge | Reply::DeclaredTooLarge { .. } => (552, "5.3.4"),
            Reply::DiskFull | Reply::LowDisk | Reply::TooManyRecipients { .. } => (452, "4.3.1"),
            Reply::StoreFailed => (451, "4.3.0"),
            Reply::NoMailbox => (550, "5.1.1"),
        }
    }

    /// The reply code.
    pub const fn code(&self) -> u16 {
        self.status().0
    }

    /// The whole reply line, CRLF included.
    pub fn line(&self) -> String {
        let (code, enhanced) = self.status();
        format!("{code} {enhanced} {self}\r\n")
    }

    /// Why a message was not stored, in the table's terms.
    pub fn not_stored(err: &DeliveryError) -> Self {
        match err {
            DeliveryError::TooLarge { .. } => Reply::MessageTooLarge,
            DeliveryError::DiskFull => Reply::DiskFull,
            DeliveryError::Io(_) => Reply::StoreFailed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_code_enhanced_status_and_text() {
        assert_eq!(
            Reply::Timeout.line(),
            "421 4.4.2 timeout: closing connection\r\n"
        );
        assert_eq!(
            Reply::CommandLineTooLong { limit: 512 }.line(),
            "500 5.5.2 line too long (at most 512 bytes)\r\n"
        );
    }

    #[test]
    fn a_delivery_failure_maps_to_its_reply() {
        let too_large = DeliveryError::TooLarge { limit: 1 };
        assert_eq!(Reply::not_stored(&too_large).code(), 552);
        assert_eq!(Reply::not_stored(&DeliveryError::DiskFull).code(), 452);
        let io = DeliveryError::Io(std::io::Error::other("eio"));
        assert_eq!(Reply::not_stored(&io).code(), 451);
    }

    #[test]
    fn every_line_is_one_line_with_a_class_matching_its_enhanced_status() {
        let all = [
            Reply::DataBefore354,
            Reply::Timeout,
            Reply::ShuttingDown,
            Reply::TooManySessions,
            Reply::TooManyFromClient,
            Reply::CommandLineTooLong { limit: 1 },
            Reply::DataLineTooLong { limit: 1 },
            Reply::SizeNotANumber,
            Reply::BodyNotOffered,
            Reply::ParameterNotSupported {
                verb: "MAIL",
                name: "X".into(),
            },
            Reply::MessageTooLarge,
            Reply::DiskFull,
            Reply::StoreFailed,
            Reply::DeclaredTooLarge { limit: 1 },
            Reply::TooManyRecipients { max: 1 },
            Reply::NoMailbox,
        ];
        for reply in all {
            let line = reply.line();
            assert_eq!(line.matches("\r\n").count(), 1, "{line:?}");
            let (code, enhanced) = reply.status();
            assert_eq!(
                enhanced.as_bytes()[0],
                code.to_string().as_bytes()[0],
                "{line:?}"
            );
        }
    }
}
