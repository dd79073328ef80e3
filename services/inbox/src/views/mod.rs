//! The HTML of every inbox page, as maud templates: every value written
//! into a page is escaped by the template, never by hand.
//!
//! # Layout
//! - [`frame`]: the document around every page (shared stylesheet, header, nav).
//! - [`list`]: the list and its search.
//! - [`item`]: one item of each kind.
//! - [`forms`]: signing in, confirming a delete, an error.

pub mod forms;
pub mod frame;
pub mod item;
pub mod list;

use time::OffsetDateTime;

/// `ms` (Unix) as `2026-12-06 12:03:04` UTC, and as RFC 3339 for `<time datetime>`.
pub fn time_of(ms: i64) -> (String, String) {
    let Ok(at) = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000) else {
        return (String::new(), String::new());
    };
    let shown = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    );
    (shown, inlet_common::record::rfc3339(at))
}

/// The path of an item's view.
pub fn item_path(kind: crate::index::item::Kind, id: &str) -> String {
    format!(
        "/items/{}/{}",
        kind.name(),
        percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC)
    )
}
