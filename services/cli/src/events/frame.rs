//! The frames of the gateway's event feed as this client reads them, and
//! the line it prints for each event. Kept free of the rest of the CLI so
//! the fuzz target (`tests/fuzz`) reads exactly this code.

use inlet_proto::kinds;
use serde::Deserialize;

/// A frame of the feed (docs/gateway.md, "Event feed frames").
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Frame {
    /// The first frame: the gateway run (`epoch`) and where the feed stands.
    Subscribed {
        epoch: String,
        latest: u64,
        recovered: bool,
    },
    /// One arrival.
    Event(Event),
}

/// An `event` frame: one arrival.
#[derive(Debug, Deserialize)]
pub struct Event {
    pub sequence: u64,
    #[serde(default)]
    pub time: Option<String>,
    #[serde(default)]
    pub source: String,
    pub kind: String,
    #[serde(default)]
    pub data: serde_json::Value,
}

/// One line: time, kind, source, what, size.
pub fn readable(event: &Event) -> String {
    let time = event
        .time
        .as_deref()
        .and_then(|t| t.get(11..19))
        .unwrap_or("--:--:--");
    let data = &event.data;
    let text = |key: &str| {
        data.get(key)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_owned()
    };
    let list = |key: &str| {
        data.get(key)
            .and_then(|v| v.as_array())
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default()
    };
    let what = match event.kind.as_str() {
        kinds::FORM_SUBMITTED => format!(
            "{} {} [{}]",
            text("submission_id"),
            text("content_type"),
            list("field_names")
        ),
        kinds::FILE_STORED => format!(
            "{} as {} (field {})",
            text("original_name"),
            text("stored_name"),
            text("field")
        ),
        kinds::MAIL_RECEIVED => format!("from {} to {}", text("sender"), list("recipients")),
        kinds::SUBMISSION_DELETED => text("submission_id"),
        kinds::SUBMISSIONS_EXPIRED => format!(
            "{} through {} ({})",
            data.get("count").and_then(|v| v.as_u64()).unwrap_or(0),
            text("last_submission_id"),
            text("reason")
        ),
        kinds::FILE_DELETED => format!("{} ({})", text("stored_name"), text("reason")),
        kinds::MAIL_DELETED => format!(
            "{} in {} ({})",
            text("message_id"),
            text("mailbox"),
            text("reason")
        ),
        _ => data.to_string(),
    };
    let size = data
        .get("size")
        .and_then(|v| v.as_u64())
        .map(human_size)
        .unwrap_or_default();
    let line = format!(
        "{time}  #{:<5} {:<15} {:<14} {what}  {size}",
        event.sequence, event.kind, event.source
    );
    printable(line.trim_end())
}

/// `text` with control characters written as escapes (`\u{1b}`), so a name
/// a client chose cannot move the cursor, recolour or clear the terminal,
/// or start a line of its own.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// `1536` → `1.5 KiB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}
