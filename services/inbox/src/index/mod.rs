//! The inbox's own search index: SQLite with FTS5, in one file under the
//! data folder. It holds nothing the services' APIs do not, so a missing,
//! damaged or old index is rebuilt from them.
//!
//! One connection writes (behind a lock); readers take connections of
//! their own from a small pool, and WAL lets them read while it writes.
//! Every call blocks: callers run them on the blocking pool.
//!
//! # Layout
//! - [`item`]: what one arrival is, as indexed.
//! - [`query`]: the search box's language.
//! - [`search`]: a query as SQL.
//! - [`schema`]: the tables.

pub mod item;
pub mod query;
pub mod schema;
pub mod search;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{params, params_from_iter, Connection, OpenFlags, OptionalExtension};

use item::{Item, Kind};
use query::Query;
use search::Window;

/// Items of one millisecond share its 4096 rowids (see [`schema`]).
pub(crate) const PER_MS: i64 = 4096;

/// Reader connections kept open between searches.
const IDLE_READERS: usize = 8;

/// The index failed to open, read or write.
#[derive(Debug, thiserror::Error)]
#[error("search index: {0}")]
pub struct IndexError(#[from] rusqlite::Error);

/// One row of the list.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Its place in arrival order (newest is largest); the list's cursor.
    pub rowid: i64,
    /// When the index learned of it (later is larger); live pages' cursor.
    pub seq: i64,
    /// Its intake.
    pub kind: Kind,
    /// Its id in its service's API.
    pub id: String,
    /// Arrival time, Unix ms.
    pub received_at_ms: i64,
    /// The trace that stored it.
    pub trace_id: Option<String>,
    /// Bytes.
    pub size: u64,
    /// The sender, where known.
    pub from: String,
    /// The one line the list shows.
    pub summary: String,
    /// A mail with attachments.
    pub has_attachment: bool,
    /// Whether someone opened it in the inbox.
    pub opened: bool,
}

/// A row and the item as its API gave it.
#[derive(Debug, Clone)]
pub struct Stored {
    /// What the list shows.
    pub row: Row,
    /// The API's JSON.
    pub document: String,
}

/// The search index.
pub struct Index {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    fresh: bool,
}

impl Index {
    /// Opens (or creates) the index at `path`.
    pub fn open(path: &Path) -> Result<Index, IndexError> {
        let mut writer = Connection::open(path)?;
        let fresh = schema::prepare(&mut writer)?;
        Ok(Index {
            path: path.to_owned(),
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
            fresh,
        })
    }

    /// Whether the index was created (or recreated) by [`Index::open`], and
    /// so holds nothing yet.
    pub fn is_fresh(&self) -> bool {
        self.fresh
    }

    /// Adds `items` or brings them up to date (their `opened` mark is
    /// kept), marking each seen in `generation`. An item already indexed as
    /// it is now is only marked seen. Returns how many were new.
    pub fn upsert(&self, items: &[Item], generation: i64) -> Result<usize, IndexError> {
        let mut conn = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let tx = conn.transaction()?;
        let mut added = 0;
        {
            let mut existing = tx.prepare_cached(
                "SELECT rowid, document = ?3 FROM items WHERE kind = ?1 AND id = ?2",
            )?;
            let mut seen =
                tx.prepare_cached("UPDATE items SET seen = ?2 WHERE rowid = ?1 AND seen < ?2")?;
            let mut last_taken =
                tx.prepare_cached("SELECT max(rowid) FROM items WHERE rowid >= ?1 AND rowid < ?2")?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO items (rowid, seq, kind, id, received_at, trace_id, size, sender, summary, has_attachment, seen, document)
                 VALUES (?1, (SELECT coalesce(max(seq), 0) + 1 FROM items), ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?;
            let mut update = tx.prepare_cached(
                "UPDATE items SET trace_id = ?2, size = ?3, sender = ?4, summary = ?5, has_attachment = ?6, seen = ?7, document = ?8
                 WHERE rowid = ?1",
            )?;
            let mut unindex = tx.prepare_cached("DELETE FROM items_fts WHERE rowid = ?1")?;
            let mut index = tx.prepare_cached(
                "INSERT INTO items_fts (rowid, text, sender, recipients, subject, name, mailbox)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for item in items {
                let found: Option<(i64, bool)> = existing
                    .query_row(params![item.kind.name(), item.id, item.document], |row| {
                        Ok((row.get(0)?, row.get(1)?))
                    })
                    .optional()?;
                let rowid = match found {
                    Some((rowid, true)) => {
                        seen.execute(params![rowid, generation])?;
                        continue;
                    }
                    Some((rowid, false)) => {
                        update.execute(params![
                            rowid,
                            item.trace_id,
                            item.size as i64,
                            item.from,
                            item.summary,
                            item.has_attachment,
                            generation,
                            item.document,
                        ])?;
                        unindex.execute([rowid])?;
                        rowid
                    }
                    None => {
                        let base = item.received_at_ms.max(0).saturating_mul(PER_MS);
                        let taken: Option<i64> =
                            last_taken.query_row([base, base + PER_MS], |row| row.get(0))?;
                        let rowid = taken.map_or(base, |last| last + 1);
                        insert.execute(params![
                            rowid,
                            item.kind.name(),
                            item.id,
                            item.received_at_ms,
                            item.trace_id,
                            item.size as i64,
                            item.from,
                            item.summary,
                            item.has_attachment,
                            generation,
                            item.document,
                        ])?;
                        added += 1;
                        rowid
                    }
                };
                index.execute(params![
                    rowid,
                    item.text,
                    item.from,
                    item.to,
                    item.subject,
                    item.name,
                    item.mailbox,
                ])?;
            }
        }
        tx.commit()?;
        Ok(added)
    }

    /// Forgets one item; whether it was there.
    pub fn remove(&self, kind: Kind, id: &str) -> Result<bool, IndexError> {
        self.remove_where("kind = ?1 AND id = ?2", params![kind.name(), id])
            .map(|n| n > 0)
    }

    /// Forgets every submission up to and including `last_id` (ids are
    /// UUIDv7: they sort by arrival). Returns how many.
    pub fn remove_submissions_up_to(&self, last_id: &str) -> Result<usize, IndexError> {
        self.remove_where(
            "kind = ?1 AND id <= ?2",
            params![Kind::Submission.name(), last_id],
        )
    }

    /// Forgets every item of `kind` not seen since `generation` (after a
    /// full listing of that kind: what it did not list is gone).
    pub fn remove_unseen(&self, kind: Kind, generation: i64) -> Result<usize, IndexError> {
        self.remove_where("kind = ?1 AND seen < ?2", params![kind.name(), generation])
    }

    fn remove_where(
        &self,
        condition: &str,
        params: impl rusqlite::Params + Clone,
    ) -> Result<usize, IndexError> {
        let mut conn = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let tx = conn.transaction()?;
        tx.execute(
            &format!(
                "DELETE FROM items_fts WHERE rowid IN (SELECT rowid FROM items WHERE {condition})"
            ),
            params.clone(),
        )?;
        let removed = tx.execute(&format!("DELETE FROM items WHERE {condition}"), params)?;
        tx.commit()?;
        Ok(removed)
    }

    /// Marks an item opened; whether it is in the index.
    pub fn mark_opened(&self, kind: Kind, id: &str) -> Result<bool, IndexError> {
        let conn = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let changed = conn.execute(
            "UPDATE items SET opened = 1 WHERE kind = ?1 AND id = ?2",
            params![kind.name(), id],
        )?;
        Ok(changed > 0)
    }

    /// One item, by its kind and id.
    pub fn get(&self, kind: Kind, id: &str) -> Result<Option<Stored>, IndexError> {
        self.read(|conn| {
            let mut statement = conn.prepare_cached(&format!(
                "SELECT {}, i.document FROM items i WHERE i.kind = ?1 AND i.id = ?2",
                search::ROW_COLUMNS
            ))?;
            statement
                .query_row(params![kind.name(), id], |row| {
                    Ok(Stored {
                        row: row_of(row)?,
                        document: row.get(11)?,
                    })
                })
                .optional()
        })
    }

    /// The rows `query` finds in `window`.
    pub fn search(&self, query: &Query, window: Window) -> Result<Vec<Row>, IndexError> {
        let (sql, params) = search::statement(query, window);
        self.read(|conn| {
            let mut statement = conn.prepare_cached(&sql)?;
            let rows = statement.query_map(params_from_iter(params), row_of)?;
            rows.collect()
        })
    }

    /// How many items the index holds.
    pub fn count(&self) -> Result<u64, IndexError> {
        self.read(|conn| {
            conn.query_row("SELECT count(*) FROM items", [], |row| row.get::<_, i64>(0))
        })
        .map(|n| n as u64)
    }

    /// The last item learned of (its `seq`; 0 when empty): where a live
    /// page starts.
    pub fn newest(&self) -> Result<i64, IndexError> {
        self.read(|conn| {
            conn.query_row("SELECT coalesce(max(seq), 0) FROM items", [], |row| {
                row.get(0)
            })
        })
    }

    /// A value the inbox keeps beside the items (the feed's position, …).
    pub fn meta(&self, key: &str) -> Result<Option<String>, IndexError> {
        self.read(|conn| {
            conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| {
                row.get(0)
            })
            .optional()
        })
    }

    /// Sets a [`Index::meta`] value.
    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), IndexError> {
        let conn = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2",
            params![key, value],
        )?;
        Ok(())
    }

    /// Bytes the index takes on disk (its file and write-ahead log).
    pub fn disk_bytes(&self) -> u64 {
        let wal = self.path.with_extension("sqlite3-wal");
        [self.path.as_path(), wal.as_path()]
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum()
    }

    fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, IndexError> {
        let pooled = self.readers.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => Connection::open_with_flags(
                &self.path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?,
        };
        let result = f(&conn);
        let mut idle = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < IDLE_READERS {
            idle.push(conn);
        }
        Ok(result?)
    }
}

fn row_of(row: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    let kind: String = row.get(2)?;
    Ok(Row {
        rowid: row.get(0)?,
        seq: row.get(1)?,
        kind: Kind::parse(&kind).unwrap_or(Kind::Submission),
        id: row.get(3)?,
        received_at_ms: row.get(4)?,
        trace_id: row.get(5)?,
        size: row.get::<_, i64>(6)? as u64,
        from: row.get(7)?,
        summary: row.get(8)?,
        has_attachment: row.get(9)?,
        opened: row.get(10)?,
    })
}

#[cfg(test)]
mod tests;
