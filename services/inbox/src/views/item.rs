//! One item's page: what every kind shows (time, size, trace, delete) and
//! what each kind adds (fields; file preview and download; mail headers,
//! bodies, source and attachments).

use maud::{html, Markup};
use serde_json::Value;

use super::frame::{page, Reader};
use super::{item_path, time_of};
use crate::index::item::Kind;
use crate::index::Row;
use crate::sources::convert::human_size;

/// What every item page gets.
pub struct ItemPage<'a> {
    /// The item as the list has it.
    pub row: &'a Row,
    /// The session's anti-forgery token.
    pub csrf: &'a str,
    /// Jaeger's UI base URL.
    pub jaeger_ui_url: &'a str,
    /// Whether this reader may delete.
    pub may_delete: bool,
}

/// How a file is previewed.
pub enum Preview {
    /// As an image, from the preview URL.
    Image,
    /// As text: its first bytes, and whether there is more.
    Text(String, bool),
    /// Not at all (HTML, SVG and everything else are never shown inline).
    None,
}

/// A mail's HTML body, as the page frames it.
pub struct HtmlBody {
    /// Remote references (images, styles) in it.
    pub remote_refs: usize,
    /// Whether the reader asked to load them.
    pub remote_shown: bool,
}

fn frame(view: &ItemPage<'_>, title: &str, body: Markup) -> Markup {
    let row = view.row;
    let (shown, datetime) = time_of(row.received_at_ms);
    page(
        title,
        &Reader {
            csrf: Some(view.csrf),
        },
        html! {
            p.crumbs { a href="/" { "All arrivals" } " / " (row.kind.name()) }
            h1 { (title) }
            dl.facts {
                dt { "Kind" } dd { (row.kind.name()) }
                dt { "Received" } dd { time datetime=(datetime) { (shown) " UTC" } }
                dt { "Size" } dd { (human_size(row.size)) " (" (row.size) " bytes)" }
                dt { "Id" } dd { code { (row.id) } }
                dt { "Trace" }
                dd {
                    @match &row.trace_id {
                        Some(trace) => {
                            code { (trace) } " "
                            a.trace href=(format!("{}/trace/{}", view.jaeger_ui_url.trim_end_matches('/'), trace))
                                target="_blank" rel="noopener noreferrer" { "View trace" span.visually-hidden { " (opens Jaeger)" } }
                        }
                        None => { "none recorded" }
                    }
                }
            }
            @if view.may_delete {
                p { a.danger-link href=(format!("/delete?item={}&back={}", encode(&format!("{}:{}", row.kind.name(), row.id)), encode(&item_path(row.kind, &row.id)))) { "Delete…" } }
            }
            (body)
        },
    )
}

fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// A submission: its fields as a table, and the raw JSON.
pub fn submission(view: &ItemPage<'_>, document: &Value) -> Markup {
    let mut fields = Vec::new();
    if let Some(value) = document.get("fields") {
        leaves(value, "", &mut fields);
    }
    let raw = serde_json::to_string_pretty(document).unwrap_or_default();
    frame(
        view,
        &format!("Submission {}", short(&view.row.summary)),
        html! {
            h2 { "Fields" }
            @if fields.is_empty() { p { "No fields." } } @else {
                table.fields {
                    thead { tr { th scope="col" { "Field" } th scope="col" { "Value" } } }
                    tbody { @for (name, value) in &fields { tr { th scope="row" { (name) } td { (value) } } } }
                }
            }
            @if let Some(content_type) = document.get("content_type").and_then(Value::as_str) {
                p.help { "Posted as " code { (content_type) } "." }
            }
            h2 { "Raw JSON" }
            pre.raw tabindex="0" aria-label="Raw JSON" { (raw) }
        },
    )
}

/// A file: its facts, a preview where one is safe, and download.
pub fn file(
    view: &ItemPage<'_>,
    document: &Value,
    content_type: &str,
    preview: &Preview,
) -> Markup {
    let text = |key| {
        document
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    let name = if text("original_name").is_empty() {
        view.row.id.as_str()
    } else {
        text("original_name")
    };
    let base = item_path(Kind::File, &view.row.id);
    frame(
        view,
        &format!("File {name}"),
        html! {
            dl.facts {
                dt { "Name" } dd { (name) }
                dt { "Stored as" } dd { code { (view.row.id) } }
                dt { "Field" } dd { (text("field")) }
                dt { "Type" } dd { code { (content_type) } }
                dt { "SHA-256" } dd { code.hash { (text("sha256")) } }
            }
            p { a.button href=(format!("{base}/download")) download { "Download" } }
            h2 { "Preview" }
            @match preview {
                Preview::Image => { img.preview src=(format!("{base}/preview")) alt=(format!("Preview of {name}")); }
                Preview::Text(body, more) => {
                    pre.raw tabindex="0" aria-label=(format!("Text of {name}")) { (body) }
                    @if *more { p.help { "Only the beginning is shown; download the file for all of it." } }
                }
                Preview::None => { p.help { "No preview for this type: only images and plain text are shown here. Download it to open it." } }
            }
        },
    )
}

/// A mail: who, what, when; the text body; the HTML body sandboxed; the
/// headers; the source; the attachments.
pub fn mail(view: &ItemPage<'_>, detail: &Value, html_body: Option<&HtmlBody>) -> Markup {
    let base = item_path(Kind::Mail, &view.row.id);
    let subject = detail
        .get("subject")
        .and_then(Value::as_str)
        .unwrap_or("(no subject)");
    let headers: Vec<(&str, &str)> = detail
        .get("headers")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|h| {
                    (
                        h.get("name").and_then(Value::as_str).unwrap_or_default(),
                        h.get("value").and_then(Value::as_str).unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let attachments = detail
        .get("attachments")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    frame(
        view,
        subject,
        html! {
            dl.facts {
                dt { "From" } dd { (addresses(detail.get("from"))) }
                dt { "To" } dd { (addresses(detail.get("to"))) }
                @let cc = addresses(detail.get("cc"));
                @if !cc.is_empty() { dt { "Cc" } dd { (cc) } }
                dt { "Subject" } dd { (subject) }
                dt { "Date" } dd { (detail.get("date").and_then(Value::as_str).unwrap_or("none given")) }
                dt { "Mailbox" } dd { (detail.get("mailbox").and_then(Value::as_str).unwrap_or_default()) }
            }
            @if let Some(text) = detail.get("text").and_then(Value::as_str) {
                h2 { "Text" }
                pre.body tabindex="0" aria-label="Text body" { (text) }
            }
            @if let Some(body) = html_body {
                h2 { "HTML" }
                @if body.remote_refs > 0 && !body.remote_shown {
                    p.notice role="status" #remote-blocked {
                        "Remote content was blocked (" (body.remote_refs) " reference" @if body.remote_refs != 1 { "s" } "): loading it would tell the sender this mail was read. "
                        a href=(format!("{base}?remote=1")) { "Show remote content" }
                    }
                }
                @if body.remote_shown {
                    p.notice role="status" { "Remote content is shown. " a href=(base.clone()) { "Block it again" } }
                }
                iframe.html-body sandbox="" referrerpolicy="no-referrer" title="HTML body of the mail"
                    src=(format!("{base}/html{}", if body.remote_shown { "?remote=1" } else { "" })) {}
            }
            @if !attachments.is_empty() {
                h2 { "Attachments" }
                ul.attachments {
                    @for a in &attachments {
                        @let index = a.get("index").and_then(Value::as_u64).unwrap_or_default();
                        @let name = a.get("name").and_then(Value::as_str).unwrap_or("attachment");
                        li {
                            a href=(format!("{base}/attachments/{index}")) download { (name) }
                            " · " (a.get("content_type").and_then(Value::as_str).unwrap_or_default())
                            " · " (human_size(a.get("size").and_then(Value::as_u64).unwrap_or_default()))
                        }
                    }
                }
            }
            h2 { "Headers" }
            table.headers {
                thead { tr { th scope="col" { "Name" } th scope="col" { "Value" } } }
                tbody { @for (name, value) in &headers { tr { th scope="row" { (name) } td { (value) } } } }
            }
            h2 { "Source" }
            p { a href=(format!("{base}/raw")) { "View the raw source" } " (exactly as stored)" }
        },
    )
}

/// `[{"name", "address"}]` as `Name <address>, …`.
fn addresses(value: Option<&Value>) -> String {
    value
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|a| {
                    let address = a.get("address").and_then(Value::as_str).unwrap_or_default();
                    match a
                        .get("name")
                        .and_then(Value::as_str)
                        .filter(|n| !n.is_empty())
                    {
                        Some(name) => Some(format!("{name} <{address}>")),
                        None => (!address.is_empty()).then(|| address.to_owned()),
                    }
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

/// Every leaf of a JSON value as `(dotted key, text)`.
fn leaves(value: &Value, prefix: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                let key = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                leaves(value, &key, out);
            }
        }
        Value::Array(values) => {
            for (i, value) in values.iter().enumerate() {
                leaves(value, &format!("{prefix}[{i}]"), out);
            }
        }
        Value::String(text) => out.push((prefix.to_owned(), text.clone())),
        other => out.push((prefix.to_owned(), other.to_string())),
    }
}

fn short(text: &str) -> String {
    let mut out: String = text.chars().take(60).collect();
    if text.chars().count() > 60 {
        out.push('…');
    }
    out
}
