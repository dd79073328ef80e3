//! The index's tables. A change here bumps [`SCHEMA_VERSION`]: an index of
//! another version is dropped and rebuilt from the services' APIs (it holds
//! nothing they do not).

use rusqlite::Connection;

/// The version of the tables below.
pub const SCHEMA_VERSION: i64 = 1;

/// Creates the tables (or drops and recreates those of another version).
/// Returns whether the index is new, and so must be filled from the APIs.
pub fn prepare(conn: &mut Connection) -> rusqlite::Result<bool> {
    conn.pragma_update(None, "journal_mode", "wal")?;
    // The index is rebuilt from the APIs after a crash if need be: durable
    // to the last checkpoint is enough, and commits stay cheap.
    conn.pragma_update(None, "synchronous", "normal")?;
    // A rebuild writes the whole index in one go: room for its pages.
    conn.pragma_update(None, "cache_size", -32768)?;
    // Fewer, larger checkpoints while a rebuild writes (16 MiB of log).
    conn.pragma_update(None, "wal_autocheckpoint", 4096)?;
    let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if version == SCHEMA_VERSION {
        return Ok(false);
    }
    let tx = conn.transaction()?;
    tx.execute_batch(
        "DROP TABLE IF EXISTS items;
         DROP TABLE IF EXISTS items_fts;
         DROP TABLE IF EXISTS meta;
         -- rowid orders by arrival: received_at in ms times 4096, plus a
         -- counter for items of the same millisecond. Newest first is
         -- rowid descending, which FTS5 walks without sorting. seq orders
         -- by when the index learned of an item (what live pages follow:
         -- an item may be learned of after a newer one).
         CREATE TABLE items (
           rowid INTEGER PRIMARY KEY,
           seq INTEGER NOT NULL,
           kind TEXT NOT NULL,
           id TEXT NOT NULL,
           received_at INTEGER NOT NULL,
           trace_id TEXT,
           size INTEGER NOT NULL,
           sender TEXT NOT NULL,
           summary TEXT NOT NULL,
           has_attachment INTEGER NOT NULL,
           opened INTEGER NOT NULL DEFAULT 0,
           seen INTEGER NOT NULL DEFAULT 0,
           document TEXT NOT NULL,
           UNIQUE (kind, id)
         );
         CREATE INDEX items_trace ON items (trace_id);
         CREATE UNIQUE INDEX items_seq ON items (seq);
         -- Contentless: the words are indexed, not kept a second time
         -- (items.document has them); rows can still be deleted.
         CREATE VIRTUAL TABLE items_fts USING fts5 (
           text, sender, recipients, subject, name, mailbox,
           content = '', contentless_delete = 1,
           tokenize = 'unicode61 remove_diacritics 2'
         );
         CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
    )?;
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(true)
}
