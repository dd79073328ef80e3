//! The stored messages: every file in `<root>/<user>/{new,cur}/` of the
//! configured mailboxes, newest first.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use inlet_common::retention::{cutoff, Reason};
use sha2::{Digest, Sha256};

/// How long and how much each mailbox keeps; `None` keeps everything.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MailRetention {
    /// Messages older than this go.
    pub max_age: Option<Duration>,
    /// The oldest go while a mailbox holds more than this many.
    pub max_messages: Option<u64>,
}

impl MailRetention {
    /// Whether it keeps everything.
    pub fn keeps_all(&self) -> bool {
        self.max_age.is_none() && self.max_messages.is_none()
    }
}

/// Where stored mail is and which mailboxes there are.
#[derive(Debug, Clone)]
pub struct MailFolder {
    root: PathBuf,
    users: Vec<String>,
}

/// One stored message, before it is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// Its id: 32 hex digits, from its mailbox and unique name.
    pub id: String,
    /// The mailbox (local part) it is in.
    pub mailbox: String,
    /// Where it is on disk (never shown to clients).
    pub path: PathBuf,
    /// When it arrived, in microseconds since the epoch (from its unique
    /// name, or its modification time for a file named otherwise).
    pub received_micros: u128,
    /// Its size in bytes, as stored.
    pub size: u64,
}

/// Where a page of messages ends: the next page lists messages strictly
/// older (arrival time, then id). As text `<micros>.<id>`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct MailCursor {
    micros: u128,
    id: String,
}

impl std::fmt::Display for MailCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.micros, self.id)
    }
}

impl std::str::FromStr for MailCursor {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        let (micros, id) = text.split_once('.').ok_or(())?;
        if !is_id(id) {
            return Err(());
        }
        Ok(Self {
            micros: micros.parse().map_err(|_| ())?,
            id: id.to_owned(),
        })
    }
}

impl StoredMessage {
    /// The message with its size read from disk; `None` if it is gone.
    fn sized(mut self) -> Option<Self> {
        self.size = std::fs::metadata(&self.path).ok()?.len();
        Some(self)
    }

    fn cursor(&self) -> MailCursor {
        MailCursor {
            micros: self.received_micros,
            id: self.id.clone(),
        }
    }
}

/// Whether `text` could be a message id (32 lowercase hex digits).
pub fn is_id(text: &str) -> bool {
    text.len() == 32 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl MailFolder {
    /// The mailboxes `users` under `root` (`<data_dir>/mail`).
    pub fn new(root: PathBuf, users: Vec<String>) -> Self {
        Self { root, users }
    }

    /// Whether `name` is one of the mailboxes.
    pub fn has_mailbox(&self, name: &str) -> bool {
        self.users.iter().any(|user| user == name)
    }

    /// Up to `limit` messages older than `after` (all when `None`), of
    /// `mailbox` (every mailbox when `None`), newest first, and the cursor
    /// of the next page when there may be more. Blocking.
    pub fn page(
        &self,
        mailbox: Option<&str>,
        after: Option<&MailCursor>,
        limit: usize,
    ) -> std::io::Result<(Vec<StoredMessage>, Option<MailCursor>)> {
        let mut found = Vec::new();
        for user in self
            .users
            .iter()
            .filter(|u| mailbox.is_none_or(|m| m == u.as_str()))
        {
            self.scan(user, &mut found)?;
        }
        // Compared by reference: a folder of many thousands is read for
        // every page, so nothing is copied for it but the page itself.
        found.retain(|m| {
            after.is_none_or(|a| (m.received_micros, m.id.as_str()) < (a.micros, a.id.as_str()))
        });
        found.sort_unstable_by(|x, y| {
            (y.received_micros, y.id.as_str()).cmp(&(x.received_micros, x.id.as_str()))
        });
        let more = found.len() > limit;
        found.truncate(limit);
        // Sizes only for the page: one stat per listed message, not per
        // message in the folder.
        let next = more
            .then(|| found.last().map(StoredMessage::cursor))
            .flatten();
        let found = found.into_iter().filter_map(StoredMessage::sized).collect();
        Ok((found, next))
    }

    /// The message with `id`, if there is one. Blocking.
    pub fn find(&self, id: &str) -> std::io::Result<Option<StoredMessage>> {
        if !is_id(id) {
            return Ok(None);
        }
        let mut found = Vec::new();
        for user in &self.users {
            self.scan(user, &mut found)?;
            if let Some(message) = found.iter().find(|m| m.id == id) {
                return Ok(message.clone().sized());
            }
            found.clear();
        }
        Ok(None)
    }

    /// Removes the message with `id` and makes its removal durable; `None`
    /// when there is none. Blocking.
    pub fn delete(&self, id: &str) -> std::io::Result<Option<StoredMessage>> {
        let Some(message) = self.find(id)? else {
            return Ok(None);
        };
        match std::fs::remove_file(&message.path) {
            Ok(()) => {}
            // Removed meanwhile (by another delete, or by retention).
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(err),
        }
        sync_parent(&message.path)?;
        Ok(Some(message))
    }

    /// Removes, durably, every message `policy` no longer keeps as of
    /// `now`, oldest first in each mailbox; returns what went and why.
    /// Blocking.
    pub fn expire(
        &self,
        policy: MailRetention,
        now: SystemTime,
    ) -> std::io::Result<Vec<(StoredMessage, Reason)>> {
        let mut removed = Vec::new();
        if policy.keeps_all() {
            return Ok(removed);
        }
        let cutoff = cutoff(now, policy.max_age).map(|since| since.as_micros());
        for user in &self.users {
            let mut messages = Vec::new();
            self.scan(user, &mut messages)?;
            messages.sort_by_key(StoredMessage::cursor);
            let mut count = messages.len() as u64;
            let mut folders = Vec::new();
            for message in messages {
                let Some(message) = message.sized() else {
                    continue; // Removed meanwhile.
                };
                let reason = if cutoff.is_some_and(|cutoff| message.received_micros < cutoff) {
                    Reason::MaxAge
                } else if policy.max_messages.is_some_and(|max| count > max) {
                    Reason::MaxMessages
                } else {
                    break;
                };
                count -= 1;
                match std::fs::remove_file(&message.path) {
                    Ok(()) => {}
                    Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(err) => return Err(err),
                }
                if let Some(folder) = message.path.parent() {
                    if !folders.iter().any(|f: &PathBuf| f == folder) {
                        folders.push(folder.to_owned());
                    }
                }
                removed.push((message, reason));
            }
            for folder in folders {
                std::fs::File::open(folder)?.sync_all()?;
            }
        }
        Ok(removed)
    }

    /// Every message file of `user`'s `new/` and `cur/`, added to `found`.
    fn scan(&self, user: &str, found: &mut Vec<StoredMessage>) -> std::io::Result<()> {
        for folder in ["new", "cur"] {
            let dir = self.root.join(user).join(folder);
            let entries = match std::fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
                Err(err) => return Err(err),
            };
            for entry in entries {
                let entry = entry?;
                let Ok(name) = entry.file_name().into_string() else {
                    continue;
                };
                if name.starts_with('.') {
                    continue;
                }
                // The entry's type comes with the folder's listing: no stat.
                if !entry.file_type().is_ok_and(|t| t.is_file()) {
                    continue;
                }
                let unique = name.split_once(":2,").map_or(name.as_str(), |(u, _)| u);
                let received_micros = match micros_in(unique) {
                    Some(micros) => micros,
                    None => {
                        let Ok(info) = entry.metadata() else {
                            continue; // Moved or removed meanwhile.
                        };
                        info.modified()
                            .ok()
                            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                            .map_or(0, |d| d.as_micros())
                    }
                };
                found.push(StoredMessage {
                    id: id_of(user, unique),
                    mailbox: user.to_owned(),
                    path: entry.path(),
                    received_micros,
                    // Read for the messages a caller keeps (see `page`).
                    size: 0,
                });
            }
        }
        Ok(())
    }
}

/// Makes the removal of `path` durable: fsyncs the folder it was in.
fn sync_parent(path: &std::path::Path) -> std::io::Result<()> {
    match path.parent() {
        Some(folder) => std::fs::File::open(folder)?.sync_all(),
        None => Ok(()),
    }
}

/// The mail API's id of the message stored at `path`
/// (`…/<user>/new/<unique>`), as `GET /messages/{id}` takes it.
pub fn id_of_path(path: &std::path::Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let unique = name.split_once(":2,").map_or(name, |(u, _)| u);
    let user = path.parent()?.parent()?.file_name()?.to_str()?;
    Some(id_of(user, unique))
}

/// The id of the message `unique` in `user`'s mailbox.
fn id_of(user: &str, unique: &str) -> String {
    let digest = Sha256::digest(format!("{user}/{unique}").as_bytes());
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// The arrival time a Maildir unique name `<secs>.M<usec>P…` carries.
fn micros_in(unique: &str) -> Option<u128> {
    let (secs, rest) = unique.split_once('.')?;
    let usec = rest.strip_prefix('M')?;
    let end = usec
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(usec.len());
    let secs: u128 = secs.parse().ok()?;
    let usec: u128 = usec[..end].parse().ok()?;
    Some(secs * 1_000_000 + usec)
}

/// The path of a message file is never built from a request: this is only
/// for tests that check what a listing found.
#[cfg(test)]
fn file_name(path: &std::path::Path) -> &str {
    path.file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder_with(files: &[(&str, &str, &str)]) -> (tempfile::TempDir, MailFolder) {
        let dir = tempfile::tempdir().unwrap();
        for (user, sub, name) in files {
            let path = dir.path().join(user).join(sub);
            std::fs::create_dir_all(&path).unwrap();
            std::fs::write(path.join(name), format!("Subject: {name}\r\n\r\nhi\r\n")).unwrap();
        }
        let folder = MailFolder::new(dir.path().into(), vec!["you".into(), "another".into()]);
        (dir, folder)
    }

    #[test]
    fn the_id_of_a_path_is_the_id_the_list_gives() {
        let (dir, folder) = folder_with(&[("you", "new", "1764000001.M000001P1Q0.host")]);
        let listed = folder.page(None, None, 1).unwrap().0;
        let path = dir.path().join("you/new/1764000001.M000001P1Q0.host");
        assert_eq!(id_of_path(&path).as_deref(), Some(listed[0].id.as_str()));
        let read = dir.path().join("you/cur/1764000001.M000001P1Q0.host:2,S");
        assert_eq!(
            id_of_path(&read),
            id_of_path(&path),
            "flags do not change it"
        );
    }

    #[test]
    fn pages_are_newest_first_across_mailboxes_and_ids_survive_a_move_to_cur() {
        let (dir, folder) = folder_with(&[
            ("you", "new", "1764000001.M000001P1Q0.host"),
            ("another", "new", "1764000002.M000001P1Q1.host"),
            ("you", "cur", "1764000003.M000001P1Q2.host:2,S"),
            ("stranger", "new", "1764000004.M000001P1Q3.host"),
            ("you", "new", ".hidden"),
        ]);
        let (first, next) = folder.page(None, None, 2).unwrap();
        let names: Vec<&str> = first.iter().map(|m| file_name(&m.path)).collect();
        assert_eq!(
            names,
            [
                "1764000003.M000001P1Q2.host:2,S",
                "1764000002.M000001P1Q1.host"
            ]
        );
        let (rest, end) = folder.page(None, next.as_ref(), 2).unwrap();
        assert_eq!(rest.len(), 1);
        assert_eq!(end, None);
        let only_another = folder.page(Some("another"), None, 10).unwrap().0;
        assert_eq!(only_another.len(), 1);
        // Read by a client (moved to cur/ with flags), it keeps its id.
        let id = rest[0].id.clone();
        let new = dir.path().join("you/new/1764000001.M000001P1Q0.host");
        std::fs::create_dir_all(dir.path().join("you/cur")).unwrap();
        std::fs::rename(
            &new,
            dir.path().join("you/cur/1764000001.M000001P1Q0.host:2,S"),
        )
        .unwrap();
        let found = folder.find(&id).unwrap().expect("found after the move");
        assert!(file_name(&found.path).ends_with(":2,S"));
    }

    #[test]
    fn an_id_is_never_a_path() {
        let (_dir, folder) = folder_with(&[("you", "new", "1764000001.M000001P1Q0.host")]);
        for id in [
            "../you/new/1764000001.M000001P1Q0.host",
            "1764000001.M000001P1Q0.host",
            "you",
            "",
            "0123456789ABCDEF0123456789ABCDEF",
        ] {
            assert_eq!(folder.find(id).unwrap(), None, "{id}");
        }
        assert!("12.0123456789abcdef0123456789abcdef"
            .parse::<MailCursor>()
            .is_ok());
        assert!("12.../etc".parse::<MailCursor>().is_err());
    }

    #[test]
    fn retention_removes_per_mailbox_oldest_first_by_age_then_by_count() {
        let (dir, folder) = folder_with(&[
            ("you", "new", "1764000001.M000001P1Q0.host"),
            ("you", "cur", "1764000100.M000001P1Q1.host:2,S"),
            ("you", "new", "1764000200.M000001P1Q2.host"),
            ("you", "new", "1764000300.M000001P1Q3.host"),
            ("another", "new", "1764000002.M000001P1Q4.host"),
        ]);
        let at = |secs: u64| UNIX_EPOCH + Duration::from_secs(secs);
        let keep_all = MailRetention::default();
        assert!(folder
            .expire(keep_all, at(1_900_000_000))
            .unwrap()
            .is_empty());
        // Kept a minute: as of 1764000170, the two oldest of `you` and the
        // one of `another` are past it.
        let minute = MailRetention {
            max_age: Some(Duration::from_secs(60)),
            max_messages: None,
        };
        let removed = folder.expire(minute, at(1_764_000_170)).unwrap();
        let names: Vec<(&str, &str, Reason)> = removed
            .iter()
            .map(|(m, reason)| (m.mailbox.as_str(), file_name(&m.path), *reason))
            .collect();
        assert_eq!(
            names,
            [
                ("you", "1764000001.M000001P1Q0.host", Reason::MaxAge),
                ("you", "1764000100.M000001P1Q1.host:2,S", Reason::MaxAge),
                ("another", "1764000002.M000001P1Q4.host", Reason::MaxAge),
            ]
        );
        assert!(!dir
            .path()
            .join("you/new/1764000001.M000001P1Q0.host")
            .exists());
        // At most one per mailbox: the older of the two left goes.
        let one = MailRetention {
            max_age: None,
            max_messages: Some(1),
        };
        let removed = folder.expire(one, at(1_764_000_150)).unwrap();
        assert_eq!(removed.len(), 1);
        assert_eq!(file_name(&removed[0].0.path), "1764000200.M000001P1Q2.host");
        assert_eq!(removed[0].1, Reason::MaxMessages);
        let left = folder.page(None, None, 10).unwrap().0;
        assert_eq!(left.len(), 1);
        // A message deleted by its id is gone, and a second delete finds nothing.
        let id = left[0].id.clone();
        assert_eq!(folder.delete(&id).unwrap().map(|m| m.id), Some(id.clone()));
        assert_eq!(folder.delete(&id).unwrap(), None);
        assert_eq!(folder.delete("../../etc/passwd").unwrap(), None);
        assert!(folder.page(None, None, 10).unwrap().0.is_empty());
    }
}
