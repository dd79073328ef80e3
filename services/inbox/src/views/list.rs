//! The list of arrivals: the search box, one-click kind filters, the rows
//! (newest first), a selection to delete, and the link to older rows.

use maud::{html, Markup};

use super::frame::{page, Reader};
use super::{item_path, time_of};
use crate::index::item::Kind;
use crate::index::Row;
use crate::sources::convert::human_size;

/// What the list page shows.
pub struct ListPage<'a> {
    /// The search as typed.
    pub q: &'a str,
    /// Why the search could not run, if it could not.
    pub problem: Option<String>,
    /// The rows, newest first.
    pub rows: &'a [Row],
    /// The cursor of the next (older) page, when there is one.
    pub older: Option<i64>,
    /// Whether this page is the newest (live rows are added on top).
    pub newest: bool,
    /// The last item the index had learned of when the page was drawn.
    pub live_after: i64,
    /// The session's anti-forgery token.
    pub csrf: &'a str,
    /// How many items were just deleted (after a delete).
    pub deleted: Option<usize>,
}

/// The list page.
pub fn list(view: &ListPage<'_>) -> Markup {
    let title = if view.q.is_empty() {
        "All arrivals".to_owned()
    } else {
        format!("Search: {}", view.q)
    };
    let this = list_url(view.q, None);
    page(
        &title,
        &Reader {
            csrf: Some(view.csrf),
        },
        html! {
            h1 { "Arrivals" }
            form.search role="search" method="get" action="/" {
                label for="q" { "Search" }
                div.search-row {
                    input #q type="search" name="q" value=(view.q) spellcheck="false"
                        aria-describedby="search-help";
                    button type="submit" { "Search" }
                }
                p #search-help .help {
                    "Words, " code { "\"a phrase\"" } ", " code { "-word" } " to leave out, and "
                    code { "kind:" } " " code { "from:" } " " code { "to:" } " " code { "subject:" } " "
                    code { "mailbox:" } " " code { "name:" } " " code { "after:" } " " code { "before:" } " "
                    code { "has:attachment" } " " code { "trace:" } "."
                }
            }
            nav.kinds aria-label="Kind" {
                ul {
                    li { a href=(list_url(&with_kind(view.q, None), None)) aria-current=[current(view.q, None)] { "All" } }
                    @for kind in Kind::ALL {
                        li { a href=(list_url(&with_kind(view.q, Some(kind)), None)) aria-current=[current(view.q, Some(kind))] { (plural(kind)) } }
                    }
                }
            }
            @if let Some(problem) = &view.problem {
                p.problem role="alert" { (problem) }
            }
            @if let Some(count) = view.deleted {
                p.notice role="status" { "Deleted " (count) @if count == 1 { " item." } @else { " items." } }
            }
            p #live-state .help role="status" aria-live="polite" {}
            form #selection method="get" action="/delete" {
                input type="hidden" name="back" value=(this);
                fieldset.selection {
                legend.visually-hidden { "Select arrivals to delete" }
                table #arrivals data-live=[view.newest.then_some("1")] data-after=(view.live_after) data-q=(view.q) {
                    caption.visually-hidden { "Arrivals, newest first" }
                    thead {
                        tr {
                            th scope="col" { span.visually-hidden { "Select" } }
                            th scope="col" { "Time (UTC)" }
                            th scope="col" { "Kind" }
                            th scope="col" { "From" }
                            th scope="col" { "Summary" }
                            th.size scope="col" { "Size" }
                        }
                    }
                    tbody #rows {
                        @for row in view.rows { (row_html(row)) }
                    }
                }
                }
                @if view.rows.is_empty() {
                    p.empty #empty { @if view.q.is_empty() { "Nothing has arrived yet." } @else { "Nothing matches this search." } }
                }
                div.actions {
                    button.danger type="submit" { "Delete selected…" }
                    @if let Some(older) = view.older {
                        a href=(list_url(view.q, Some(older))) rel="next" { "Older arrivals" }
                    }
                    @if !view.newest {
                        a href=(list_url(view.q, None)) { "Newest arrivals" }
                    }
                }
            }
        },
    )
}

/// One row of the list (also sent to live pages).
pub fn row_html(row: &Row) -> Markup {
    let (shown, datetime) = time_of(row.received_at_ms);
    let href = item_path(row.kind, &row.id);
    let summary = if row.summary.is_empty() {
        "(empty)"
    } else {
        row.summary.as_str()
    };
    html! {
        tr.unread[!row.opened] data-rowid=(row.rowid) data-item=(format!("{}:{}", row.kind.name(), row.id)) {
            td {
                input type="checkbox" name="item" value=(format!("{}:{}", row.kind.name(), row.id))
                    aria-label=(format!("Select {}: {}", row.kind.name(), summary));
            }
            td { time datetime=(datetime) { (shown) } }
            td { (row.kind.name()) }
            td { (row.from) }
            td {
                @if !row.opened {
                    span.unread-mark title="Not opened yet" aria-hidden="true" { "●" }
                    span.visually-hidden { "Not opened: " }
                }
                a href=(href) { (summary) }
                @if row.has_attachment { " " span.tag { "attachment" } }
            }
            td.size { (human_size(row.size)) }
        }
    }
}

/// `/?q=…&before=…`.
pub fn list_url(q: &str, before: Option<i64>) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    if !q.is_empty() {
        query.append_pair("q", q);
    }
    if let Some(before) = before {
        query.append_pair("before", &before.to_string());
    }
    let query = query.finish();
    if query.is_empty() {
        "/".into()
    } else {
        format!("/?{query}")
    }
}

/// `q` with its `kind:` terms replaced by `kind` (or removed).
fn with_kind(q: &str, kind: Option<Kind>) -> String {
    let mut words: Vec<String> = q
        .split_whitespace()
        .filter(|w| !w.to_ascii_lowercase().starts_with("kind:"))
        .map(str::to_owned)
        .collect();
    if let Some(kind) = kind {
        words.insert(0, format!("kind:{}", kind.name()));
    }
    words.join(" ")
}

/// `aria-current` for the filter of `kind` when `q` keeps to it.
fn current(q: &str, kind: Option<Kind>) -> Option<&'static str> {
    let kinds: Vec<Option<Kind>> = q
        .split_whitespace()
        .filter_map(|w| {
            w.to_ascii_lowercase()
                .strip_prefix("kind:")
                .map(Kind::parse)
        })
        .collect();
    let only = match kinds.as_slice() {
        [] => None,
        [one] => *one,
        _ => return None,
    };
    (only == kind).then_some("true")
}

fn plural(kind: Kind) -> &'static str {
    match kind {
        Kind::Submission => "Submissions",
        Kind::File => "Files",
        Kind::Mail => "Mail",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_filters_replace_the_kind_and_keep_the_rest() {
        assert_eq!(
            with_kind("hello kind:file -spam", Some(Kind::Mail)),
            "kind:mail hello -spam"
        );
        assert_eq!(with_kind("kind:file x", None), "x");
        assert_eq!(current("kind:mail x", Some(Kind::Mail)), Some("true"));
        assert_eq!(current("x", None), Some("true"));
        assert_eq!(current("x", Some(Kind::File)), None);
        assert_eq!(list_url("a b&c", Some(5)), "/?q=a+b%26c&before=5");
        assert_eq!(list_url("", None), "/");
    }
}
