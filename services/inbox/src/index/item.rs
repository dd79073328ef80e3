//! One arrival as the inbox knows it: what the list shows and the search
//! looks at, taken from an item of a service's read API.

use serde::{Deserialize, Serialize};

/// Which intake an item came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[repr(usize)]
pub enum Kind {
    /// A form post (forms' `/submissions`).
    Submission,
    /// An uploaded file (uploads' `/files`).
    File,
    /// A mail (smtp's `/messages`).
    Mail,
}

impl Kind {
    /// Every kind, in the order the filters show them.
    pub const ALL: [Kind; 3] = [Kind::Submission, Kind::File, Kind::Mail];

    /// The name in URLs, the index and `kind:`.
    pub const fn name(self) -> &'static str {
        match self {
            Kind::Submission => "submission",
            Kind::File => "file",
            Kind::Mail => "mail",
        }
    }

    /// The kind named `name` (singular or plural, any case).
    pub fn parse(name: &str) -> Option<Kind> {
        match name.to_ascii_lowercase().as_str() {
            "submission" | "submissions" | "form" | "forms" => Some(Kind::Submission),
            "file" | "files" | "upload" | "uploads" => Some(Kind::File),
            "mail" | "mails" | "message" | "messages" => Some(Kind::Mail),
            _ => None,
        }
    }
}

/// One arrival, as indexed.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Its intake.
    pub kind: Kind,
    /// Its id in its service's API (a UUID, a stored file name, a message id).
    pub id: String,
    /// Arrival time, Unix milliseconds.
    pub received_at_ms: i64,
    /// The trace that stored it (32 hex digits), when known.
    pub trace_id: Option<String>,
    /// Size in bytes, as its service counts it.
    pub size: u64,
    /// Who sent it: the mail's sender; empty where the service does not say.
    pub from: String,
    /// Mail recipients, space-separated.
    pub to: String,
    /// The mail's subject.
    pub subject: String,
    /// The mailbox a mail was stored in.
    pub mailbox: String,
    /// A file's original and stored names.
    pub name: String,
    /// The one line the list shows.
    pub summary: String,
    /// Everything else free text should find (field names and values, …).
    pub text: String,
    /// Whether a mail carries attachments.
    pub has_attachment: bool,
    /// The item as its API gave it, for the item view without a round trip.
    pub document: String,
}
