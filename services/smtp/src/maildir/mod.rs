//! Durable Maildir delivery: `mail/<user>/{tmp,new,cur}`.
//!
//! A message for several recipients is written once per recipient, each copy
//! with its own trace headers, into `tmp/` under a unique name. Only when
//! every copy is written and fsync'd are they renamed into `new/` (and each
//! `new/` folder fsync'd): the caller answers 250 after that. If anything
//! fails, or the delivery is dropped unfinished (the client went away), every
//! copy is removed: no recipient gets a message another did not.
//!
//! Several replicas may deliver into one volume. A name is
//! `<seconds>.M<µs>P<pid>R<instance>Q<count>.<host>`: `host` is the
//! machine's (a container's own) name and `instance` is random per start,
//! so no two processes, on one machine or many, ever make the same name,
//! and the rename into `new/` never meets another's file. At start a
//! replica clears from `tmp/` only what an earlier run on its own machine
//! left, and what anyone left more than [`STALE_TMP`] ago (Maildir's rule).

mod delivery;
mod headers;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

pub use delivery::{Delivery, DeliveryError};
pub use headers::header_safe;

use crate::mailbox::Mailbox;

/// The three folders of a Maildir.
const FOLDERS: [&str; 3] = ["tmp", "new", "cur"];

/// How old a file in `tmp/` must be before any process may take it for a
/// crash's leftover (Maildir's 36 hours: no delivery takes that long).
pub const STALE_TMP: std::time::Duration = std::time::Duration::from_secs(36 * 3600);

/// Who sent a message, from where, and when: what its trace headers say.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// The reverse path (`MAIL FROM`), without angle brackets; empty for `<>`.
    pub sender: String,
    /// The name the client gave in `HELO`/`EHLO`.
    pub helo: String,
    /// The client's address.
    pub client: IpAddr,
    /// The transaction's id, as the 250 reply and the logs name it.
    pub id: String,
    /// When the message was received.
    pub received_at: time::OffsetDateTime,
}

/// The mailboxes under one folder (`<data_dir>/mail`).
#[derive(Debug)]
pub struct MailStore {
    root: PathBuf,
    /// The host part of names: this machine's name.
    host: String,
    /// Random per start: tells this run's names from every other's.
    instance: String,
    deliveries: AtomicU64,
}

impl MailStore {
    /// Makes `<root>/<user>/{tmp,new,cur}` for every user and clears each
    /// `tmp/` of copies a crash left half-written: those an earlier run on
    /// this machine left, and any older than [`STALE_TMP`] (another
    /// replica's are under way). `hostname` names the machine when the
    /// system's own name cannot be read. Returns the store and how many
    /// copies it removed.
    pub fn open(root: &Path, users: &[String], hostname: &str) -> std::io::Result<(Self, usize)> {
        let machine = inlet_common::machine::name().unwrap_or_else(|| hostname.to_owned());
        // Maildir names keep '/' and ':' out of the host part.
        let host = header_safe(&machine).replace(['/', ':', '.'], "_");
        let own_suffix = format!(".{host}");
        let mut removed = 0;
        for user in users {
            for folder in FOLDERS {
                std::fs::create_dir_all(root.join(user).join(folder))?;
            }
            for entry in std::fs::read_dir(root.join(user).join("tmp"))? {
                let entry = entry?;
                let info = entry.metadata()?;
                let stale = info
                    .modified()
                    .ok()
                    .and_then(|at| at.elapsed().ok())
                    .is_some_and(|age| age > STALE_TMP);
                let ours = entry.file_name().to_string_lossy().ends_with(&own_suffix);
                if info.is_file() && (ours || stale) {
                    std::fs::remove_file(entry.path())?;
                    removed += 1;
                }
            }
        }
        let store = Self {
            root: root.to_owned(),
            host,
            instance: uuid::Uuid::now_v7().simple().to_string()[20..].to_owned(),
            deliveries: AtomicU64::new(0),
        };
        Ok((store, removed))
    }

    /// The folder mail is stored under.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Starts delivering one message to `recipients` (at least one): a copy
    /// in each one's `tmp/`, begun with its trace headers. The body is then
    /// written with [`Delivery::write`], at most `max_message_bytes` of it.
    pub fn begin(
        &self,
        envelope: &Envelope,
        recipients: &[Mailbox],
        max_message_bytes: u64,
        server_name: &str,
    ) -> Result<Delivery, DeliveryError> {
        let mut delivery = Delivery::new(max_message_bytes);
        for mailbox in recipients {
            let name = self.unique_name(envelope.received_at);
            let folder = self.root.join(&mailbox.user);
            let headers = headers::trace_headers(envelope, mailbox, server_name);
            delivery.add_copy(&folder, &name, headers.as_bytes())?;
        }
        Ok(delivery)
    }

    /// A file name no other delivery uses, on this machine or another, as
    /// the Maildir convention makes it:
    /// `<seconds>.M<microseconds>P<pid>R<instance>Q<count>.<host>`.
    fn unique_name(&self, at: time::OffsetDateTime) -> String {
        let count = self.deliveries.fetch_add(1, Ordering::Relaxed);
        format!(
            "{}.M{}P{}R{}Q{}.{}",
            at.unix_timestamp(),
            at.microsecond(),
            std::process::id(),
            self.instance,
            count,
            self.host
        )
    }
}
