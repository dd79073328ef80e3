//! What every SMTP session can reach. Its own module, so the engine depends
//! on it without depending on `startup`, which builds it.

use std::sync::Arc;
use std::time::Duration;

use inlet_common::disk_space::DiskGuard;

use crate::delivered::Delivered;
use crate::mailbox::Mailboxes;
use crate::maildir::MailStore;

/// What every session can reach: the policy it applies and where it stores.
#[derive(Debug)]
pub struct Policy {
    /// Who has a mailbox.
    pub mailboxes: Mailboxes,
    /// Where mail goes.
    pub store: MailStore,
    /// `smtp.max_message_bytes`.
    pub max_message_bytes: u64,
    /// `smtp.max_recipients`.
    pub max_recipients: usize,
    /// The name the server greets with.
    pub hostname: String,
    /// What happens once a message is stored (metrics, event, log).
    pub delivered: Delivered,
    /// Line limits and deadlines of every session.
    pub limits: SessionLimits,
    /// Refuses new messages while the data volume is nearly full.
    pub disk: Arc<DiskGuard>,
}

/// Limits and deadlines of a session.
#[derive(Debug, Clone, Copy)]
pub struct SessionLimits {
    /// Longest command line, CRLF included.
    pub max_command_line: usize,
    /// Longest line inside DATA, CRLF included; a longer one ends the
    /// session and keeps nothing.
    pub max_data_line: usize,
    /// Longest one command line may take to arrive, waiting included.
    pub command_timeout: Duration,
    /// Longest silence within DATA.
    pub data_timeout: Duration,
    /// Longest from the 354 to the final dot.
    pub message_timeout: Duration,
}
