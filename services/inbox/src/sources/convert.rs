//! An item of a service's read API as an index [`Item`].

use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::index::item::{Item, Kind};

/// Longest one-line summary, in characters.
const SUMMARY_CHARS: usize = 160;

/// Why an API item could not be indexed.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// A field every item has is missing or of the wrong type.
    #[error("{kind} item without a usable {field}")]
    Missing {
        /// The item's kind.
        kind: &'static str,
        /// The field.
        field: &'static str,
    },
}

/// `value`, an item of `kind`'s list, as indexed.
pub fn item(kind: Kind, value: &Value) -> Result<Item, ConvertError> {
    let missing = |field| ConvertError::Missing {
        kind: kind.name(),
        field,
    };
    let object = value.as_object().ok_or_else(|| missing("object"))?;
    let id = text(object, "id").ok_or_else(|| missing("id"))?;
    let received_at = text(object, "received_at")
        .and_then(|t| OffsetDateTime::parse(&t, &Rfc3339).ok())
        .ok_or_else(|| missing("received_at"))?;
    let mut item = Item {
        kind,
        id,
        received_at_ms: (received_at.unix_timestamp_nanos() / 1_000_000) as i64,
        trace_id: text(object, "trace_id"),
        size: object.get("size").and_then(Value::as_u64).unwrap_or(0),
        from: String::new(),
        to: String::new(),
        subject: String::new(),
        mailbox: String::new(),
        name: String::new(),
        summary: String::new(),
        text: String::new(),
        has_attachment: false,
        document: value.to_string(),
    };
    match kind {
        Kind::Submission => submission(object, &mut item),
        Kind::File => file(object, &mut item),
        Kind::Mail => mail(object, &mut item),
    }
    Ok(item)
}

fn submission(object: &Map<String, Value>, item: &mut Item) {
    item.from = text(object, "client").unwrap_or_default();
    let mut summary = Vec::new();
    let mut words = Vec::new();
    if let Some(fields) = object.get("fields") {
        flatten(fields, "", &mut |key, value| {
            summary.push(format!("{key}: {value}"));
            words.push(format!("{key} {value}"));
        });
    }
    item.summary = shorten(&summary.join(", "));
    if let Some(content_type) = text(object, "content_type") {
        words.push(content_type);
    }
    item.text = words.join("\n");
}

fn file(object: &Map<String, Value>, item: &mut Item) {
    item.from = text(object, "client").unwrap_or_default();
    let original = text(object, "original_name").unwrap_or_default();
    let stored = text(object, "name").unwrap_or_else(|| item.id.clone());
    item.summary = shorten(&format!(
        "{} ({})",
        if original.is_empty() {
            &stored
        } else {
            &original
        },
        human_size(item.size)
    ));
    item.name = format!("{original} {stored}");
    item.text = [text(object, "field"), text(object, "sha256")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("\n");
}

fn mail(object: &Map<String, Value>, item: &mut Item) {
    item.from = addresses(object.get("from"));
    item.to = addresses(object.get("to"));
    item.subject = text(object, "subject").unwrap_or_default();
    item.mailbox = text(object, "mailbox").unwrap_or_default();
    item.has_attachment = object
        .get("attachment_count")
        .and_then(Value::as_u64)
        .is_some_and(|n| n > 0);
    item.summary = shorten(if item.subject.is_empty() {
        "(no subject)"
    } else {
        &item.subject
    });
}

/// `[{"name", "address"}]` as `Name <address>, …`.
fn addresses(value: Option<&Value>) -> String {
    let Some(list) = value.and_then(Value::as_array) else {
        return String::new();
    };
    list.iter()
        .filter_map(|a| {
            let address = a.get("address").and_then(Value::as_str).unwrap_or_default();
            let name = a.get("name").and_then(Value::as_str).unwrap_or_default();
            match (name.is_empty(), address.is_empty()) {
                (true, true) => None,
                (true, false) => Some(address.to_owned()),
                (false, true) => Some(name.to_owned()),
                (false, false) => Some(format!("{name} <{address}>")),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every leaf of a JSON value as `key: value` (nested keys dotted).
fn flatten(value: &Value, prefix: &str, out: &mut impl FnMut(&str, &str)) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                let key = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(value, &key, out);
            }
        }
        Value::Array(values) => {
            for value in values {
                flatten(value, prefix, out);
            }
        }
        Value::String(text) => out(prefix, text),
        Value::Null => out(prefix, ""),
        other => out(prefix, &other.to_string()),
    }
}

fn text(object: &Map<String, Value>, key: &str) -> Option<String> {
    object.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// At most [`SUMMARY_CHARS`] characters on one line.
fn shorten(text: &str) -> String {
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(SUMMARY_CHARS + 1)
        .collect();
    if line.chars().count() > SUMMARY_CHARS {
        let mut short: String = line.chars().take(SUMMARY_CHARS - 1).collect();
        short.push('…');
        short
    } else {
        line
    }
}

/// `1234567` as `1.2 MB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_submission_summarises_its_fields() {
        let item = item(
            Kind::Submission,
            &json!({"id": "0199", "received_at": "2026-12-01T00:00:00.5Z", "trace_id": "ab", "size": 17, "client": "192.0.2.7",
                    "content_type": "application/json", "fields": {"name": "Ann", "tags": ["a", "b"], "n": {"x": 1}}}),
        )
        .unwrap();
        assert_eq!(item.received_at_ms, 1_796_083_200_500);
        assert_eq!(item.summary, "name: Ann, tags: a, tags: b, n.x: 1");
        assert!(item.text.contains("name Ann") && item.text.contains("application/json"));
        assert_eq!(item.trace_id.as_deref(), Some("ab"));
        assert_eq!(item.from, "192.0.2.7", "from: the client's address");
    }

    #[test]
    fn a_file_and_a_mail() {
        let file = item(
            Kind::File,
            &json!({"id": "f-1-notes.txt", "received_at": "2026-12-01T00:00:00Z", "size": 1234567,
                    "name": "f-1-notes.txt", "original_name": "notes.txt", "field": "f", "sha256": "00"}),
        )
        .unwrap();
        assert_eq!(file.summary, "notes.txt (1.2 MB)");
        assert_eq!(file.name, "notes.txt f-1-notes.txt");
        let mail = item(
            Kind::Mail,
            &json!({"id": "ab", "received_at": "2026-12-01T00:00:00Z", "size": 9, "mailbox": "bob",
                    "from": [{"name": "Alice", "address": "alice@example.com"}],
                    "to": [{"name": "", "address": "bob@example.com"}], "subject": "Hi\r\nthere",
                    "attachment_count": 2}),
        )
        .unwrap();
        assert_eq!(mail.from, "Alice <alice@example.com>");
        assert_eq!(mail.to, "bob@example.com");
        assert_eq!(mail.summary, "Hi  there");
        assert!(mail.has_attachment);
    }

    #[test]
    fn an_item_without_an_id_or_time_is_refused() {
        assert!(item(Kind::Mail, &json!({"received_at": "2026-12-01T00:00:00Z"})).is_err());
        assert!(item(Kind::Mail, &json!({"id": "x", "received_at": "yesterday"})).is_err());
    }
}
