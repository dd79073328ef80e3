//! A parsed [`Query`] as one SQL statement over the index.
//!
//! Text terms become one FTS5 `MATCH` (words as prefixes, phrases whole,
//! field operators as column filters); the rest are conditions on `items`.
//! Results come newest first by rowid, which FTS5 hands out in that order,
//! so a page stops reading at its limit instead of sorting every match.

use rusqlite::types::Value;

use super::query::{Filter, Query};

/// The columns every listed row is read with (see `Index::rows`).
pub const ROW_COLUMNS: &str =
    "i.rowid, i.seq, i.kind, i.id, i.received_at, i.trace_id, i.size, i.sender, i.summary, i.has_attachment, i.opened";

/// Which part of the results to read.
#[derive(Debug, Clone, Copy)]
pub enum Window {
    /// The newest `limit`, older than `rowid` when given (the next page).
    Older {
        /// Only rows older than this one.
        before: Option<i64>,
        /// Most rows.
        limit: u32,
    },
    /// Rows the index learned of after `seq` (what arrived since a page
    /// was drawn), in the order it learned of them.
    Newer {
        /// Only rows learned of after this one.
        after: i64,
        /// Most rows.
        limit: u32,
    },
}

/// The statement and its parameters.
pub fn statement(query: &Query, window: Window) -> (String, Vec<Value>) {
    let mut conditions: Vec<String> = Vec::new();
    let mut params: Vec<Value> = Vec::new();
    let mut matching: Vec<String> = Vec::new();
    // A page of a text search walks the FTS5 table by rowid; otherwise
    // `items` is walked. Time bounds are rowid bounds on the walked table
    // (rowids are arrival times), so neither reads outside them.
    let walks_fts = matches!(window, Window::Older { .. })
        && query
            .terms
            .iter()
            .any(|t| !t.negated && matches!(t.filter, Filter::Text { .. } | Filter::Field { .. }));
    let rowid = if walks_fts { "f.rowid" } else { "i.rowid" };
    for term in &query.terms {
        let fts = match &term.filter {
            Filter::Text { text, phrase } => Some(text_match(text, *phrase, None)),
            Filter::Field { field, text } => Some(text_match(text, true, Some(field.column()))),
            _ => None,
        };
        if let Some(expression) = fts {
            if term.negated || matches!(window, Window::Newer { .. }) {
                // Few rows are new: each is checked by its rowid, instead
                // of listing every match of the expression.
                let not = if term.negated { "NOT " } else { "" };
                conditions.push(format!(
                    "{not}EXISTS (SELECT 1 FROM items_fts WHERE items_fts MATCH ? AND rowid = i.rowid)"
                ));
                params.push(Value::Text(expression));
            } else {
                matching.push(expression);
            }
            continue;
        }
        let not = if term.negated { "NOT " } else { "" };
        match &term.filter {
            Filter::Kind(kind) => {
                conditions.push(format!("{not}(i.kind = ?)"));
                params.push(Value::Text(kind.name().into()));
            }
            Filter::After(ms) => {
                conditions.push(format!("{not}({rowid} >= ?)"));
                params.push(Value::Integer(first_rowid_of(*ms)));
            }
            Filter::Before(ms) => {
                conditions.push(format!("{not}({rowid} < ?)"));
                params.push(Value::Integer(first_rowid_of(*ms)));
            }
            Filter::HasAttachment => conditions.push(format!("{not}(i.has_attachment = 1)")),
            Filter::Trace(prefix) => {
                conditions.push(format!("{not}(i.trace_id >= ? AND i.trace_id < ?)"));
                params.push(Value::Text(prefix.clone()));
                params.push(Value::Text(format!("{prefix}g")));
            }
            Filter::Text { .. } | Filter::Field { .. } => unreachable!("handled above"),
        }
    }
    let (order, limit) = match window {
        Window::Older { before, limit } => {
            if let Some(before) = before {
                conditions.push(format!("{rowid} < ?"));
                params.push(Value::Integer(before));
            }
            ("DESC", limit)
        }
        Window::Newer { after, limit } => {
            conditions.push("i.seq > ?".into());
            params.push(Value::Integer(after));
            ("ASC", limit)
        }
    };
    let mut sql = String::new();
    if matching.is_empty() {
        sql.push_str(&format!("SELECT {ROW_COLUMNS} FROM items i"));
    } else {
        sql.push_str(&format!(
            "SELECT {ROW_COLUMNS} FROM items_fts f JOIN items i ON i.rowid = f.rowid"
        ));
        conditions.insert(0, "items_fts MATCH ?".into());
        params.insert(0, Value::Text(matching.join(" AND ")));
    }
    if !conditions.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conditions.join(" AND "));
    }
    let by = match (window, matching.is_empty()) {
        (Window::Newer { .. }, _) => "i.seq",
        (_, true) => "i.rowid",
        (_, false) => "f.rowid",
    };
    sql.push_str(&format!(" ORDER BY {by} {order} LIMIT {limit}"));
    (sql, params)
}

/// The first rowid of the millisecond `ms` (see the index's schema).
fn first_rowid_of(ms: i64) -> i64 {
    ms.max(0).saturating_mul(super::PER_MS)
}

/// An FTS5 expression for `text`: a quoted phrase (prefix-matched on its last
/// word unless `whole`), limited to `column` when given. Quotes inside are
/// doubled, so no input is read as FTS5 syntax.
fn text_match(text: &str, whole: bool, column: Option<&str>) -> String {
    let quoted = format!("\"{}\"", text.replace('"', "\"\""));
    let phrase = if whole { quoted } else { format!("{quoted} *") };
    match column {
        Some(column) => format!("{column} : {phrase}"),
        None => phrase,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn sql(input: &str) -> (String, Vec<Value>) {
        let query = Query::parse(input, datetime!(2026-12-06 12:00 UTC)).unwrap();
        statement(
            &query,
            Window::Older {
                before: None,
                limit: 50,
            },
        )
    }

    #[test]
    fn text_terms_are_one_match_of_quoted_phrases() {
        let (sql, params) = sql(r#"hello "big world" from:alice subject:"a b""#);
        assert!(sql.contains("FROM items_fts f JOIN items i"), "{sql}");
        assert!(sql.ends_with("ORDER BY f.rowid DESC LIMIT 50"), "{sql}");
        assert_eq!(
            params[0],
            Value::Text(
                r#""hello" * AND "big world" AND sender : "alice" AND subject : "a b""#.into()
            )
        );
        // A quote inside is doubled: never read as FTS5 syntax.
        assert_eq!(text_match(r#"x" OR "y"#, true, None), r#""x"" OR ""y""#);
    }

    #[test]
    fn the_rest_are_conditions_and_exclusions() {
        let (sql, params) = sql("kind:mail -kind:file -spam has:attachment trace:ab");
        assert!(sql.starts_with("SELECT i.rowid"), "{sql}");
        assert!(
            sql.contains("(i.kind = ?)") && sql.contains("NOT (i.kind = ?)"),
            "{sql}"
        );
        assert!(
            sql.contains(
                "NOT EXISTS (SELECT 1 FROM items_fts WHERE items_fts MATCH ? AND rowid = i.rowid)"
            ),
            "{sql}"
        );
        assert!(sql.contains("(i.has_attachment = 1)"), "{sql}");
        assert_eq!(params.len(), 5, "{params:?}");
        assert_eq!(params[3], Value::Text("ab".into()));
        assert_eq!(params[4], Value::Text("abg".into()));
    }
}
