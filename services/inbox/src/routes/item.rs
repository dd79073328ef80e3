//! `GET /items/{kind}/{id}` and what an item's page links to: a file's
//! download and preview, a mail's HTML body, source and attachments. The
//! bytes come from the item's service and are streamed through, with
//! headers that keep them from running as part of the inbox.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use inlet_common::access::Scope;
use inlet_http::page::html;
use serde::Deserialize;
use serde_json::Value;

use super::reader::reader;
use crate::error::InboxError;
use crate::index::item::Kind;
use crate::index::Stored;
use crate::state::AppState;
use crate::views::item::{self as view, HtmlBody, ItemPage, Preview};

/// Most bytes of a text file shown in its preview.
const TEXT_PREVIEW_BYTES: usize = 64 * 1024;

/// Images shown inline; every other type (SVG and HTML among them) is only
/// ever downloaded.
const PREVIEW_IMAGES: [&str; 6] = [
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/avif",
    "image/bmp",
];

/// The page of a mail: `?remote=1` lets its HTML load remote content.
#[derive(Deserialize)]
pub struct ItemQuery {
    #[serde(default)]
    remote: u8,
}

fn kind_of(name: &str) -> Result<Kind, InboxError> {
    Kind::parse(name)
        .filter(|kind| kind.name() == name)
        .ok_or(InboxError::NotFound)
}

async fn stored(state: &AppState, kind: Kind, id: String) -> Result<Stored, InboxError> {
    state
        .syncer
        .blocking(move |index| index.get(kind, &id))
        .await?
        .ok_or(InboxError::NotFound)
}

/// `GET /items/{kind}/{id}`.
pub async fn page(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    query: web::Query<ItemQuery>,
) -> Result<HttpResponse, InboxError> {
    let who = reader(&req, Scope::Read)?;
    let (kind, id) = path.into_inner();
    let kind = kind_of(&kind)?;
    let item = stored(&state, kind, id.clone()).await?;
    {
        let id = id.clone();
        state
            .syncer
            .blocking(move |index| index.mark_opened(kind, &id))
            .await?;
    }
    let document: Value = serde_json::from_str(&item.document).unwrap_or(Value::Null);
    let view = ItemPage {
        row: &item.row,
        csrf: &who.csrf,
        jaeger_ui_url: &state.settings.jaeger_ui_url,
        may_delete: who.scope.allows(Scope::Delete),
    };
    let page = match kind {
        Kind::Submission => view::submission(&view, &document),
        Kind::File => {
            let content_type = file_type(&document, &id);
            let preview = if PREVIEW_IMAGES.contains(&content_type.as_str()) {
                Preview::Image
            } else if content_type == "text/plain" {
                text_preview(&state, &id).await?
            } else {
                Preview::None
            };
            view::file(&view, &document, &content_type, &preview)
        }
        Kind::Mail => {
            let detail = mail_detail(&state, &id).await?;
            let html_body = detail
                .get("html")
                .and_then(Value::as_str)
                .map(|body| HtmlBody {
                    remote_refs: remote_references(body),
                    remote_shown: query.remote == 1,
                });
            view::mail(&view, &detail, html_body.as_ref())
        }
    };
    Ok(html(page.into_string()))
}

/// A mail parsed by smtp's mail API (`GET /messages/{id}`).
async fn mail_detail(state: &AppState, id: &str) -> Result<Value, InboxError> {
    state
        .syncer
        .api()
        .get_json(Kind::Mail, id, "")
        .await?
        .ok_or(InboxError::NotFound)
}

/// A file's type, from its original name (else its stored name).
fn file_type(document: &Value, id: &str) -> String {
    let name = document
        .get("original_name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .unwrap_or(id);
    mime_guess::from_path(name)
        .first_raw()
        .unwrap_or("application/octet-stream")
        .to_owned()
}

async fn text_preview(state: &AppState, id: &str) -> Result<Preview, InboxError> {
    let Some(response) = state.syncer.api().get_bytes(Kind::File, id, "").await? else {
        return Err(InboxError::NotFound);
    };
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    let mut more = false;
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else { break };
        let room = TEXT_PREVIEW_BYTES - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if chunk.len() > room {
            more = true;
            break;
        }
    }
    Ok(Preview::Text(
        String::from_utf8_lossy(&body).into_owned(),
        more,
    ))
}

/// `GET /items/file/{id}/download`.
pub async fn download(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, InboxError> {
    reader(&req, Scope::Read)?;
    pass_through(&state, Kind::File, &id, "", None).await
}

/// `GET /items/file/{id}/preview`: an image of an allowed type, inline.
pub async fn preview(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, InboxError> {
    reader(&req, Scope::Read)?;
    let item = stored(&state, Kind::File, id.clone()).await?;
    let document: Value = serde_json::from_str(&item.document).unwrap_or(Value::Null);
    let content_type = file_type(&document, &id);
    if !PREVIEW_IMAGES.contains(&content_type.as_str()) {
        return Err(InboxError::NotFound);
    }
    pass_through(&state, Kind::File, &id, "", Some(&content_type)).await
}

/// `GET /items/mail/{id}/raw`: the stored bytes, shown as text.
pub async fn raw(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, InboxError> {
    reader(&req, Scope::Read)?;
    pass_through(
        &state,
        Kind::Mail,
        &id,
        "/raw",
        Some("text/plain; charset=utf-8"),
    )
    .await
}

/// `GET /items/mail/{id}/attachments/{index}`.
pub async fn attachment(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, u32)>,
) -> Result<HttpResponse, InboxError> {
    reader(&req, Scope::Read)?;
    let (id, index) = path.into_inner();
    pass_through(
        &state,
        Kind::Mail,
        &id,
        &format!("/attachments/{index}"),
        None,
    )
    .await
}

/// `GET /items/mail/{id}/html`: the HTML body for the sandboxed frame.
/// Its `Content-Security-Policy` runs no script, submits no form and loads
/// nothing remote (unless `?remote=1`), even if opened on its own.
pub async fn mail_html(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<ItemQuery>,
) -> Result<HttpResponse, InboxError> {
    reader(&req, Scope::Read)?;
    let detail = mail_detail(&state, &id).await?;
    let body = detail
        .get("html")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let remote = if query.remote == 1 {
        " http: https:"
    } else {
        ""
    };
    let policy = format!(
        "sandbox; default-src 'none'; style-src 'unsafe-inline'{remote}; img-src data: cid:{remote}; font-src data:{remote}; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
    );
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CONTENT_SECURITY_POLICY, policy))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(body))
}

/// Streams the service's answer on: its type (or `content_type` when
/// given, shown inline), length and disposition, never as a page of the
/// inbox (`sandbox`, `nosniff`).
async fn pass_through(
    state: &AppState,
    kind: Kind,
    id: &str,
    rest: &str,
    content_type: Option<&str>,
) -> Result<HttpResponse, InboxError> {
    let response = state
        .syncer
        .api()
        .get_bytes(kind, id, rest)
        .await?
        .ok_or(InboxError::NotFound)?;
    let mut answer = HttpResponse::Ok();
    let headers = response.headers();
    match content_type {
        Some(content_type) => {
            answer.insert_header((header::CONTENT_TYPE, content_type));
            answer.insert_header((header::CONTENT_DISPOSITION, "inline"));
        }
        None => {
            for name in [header::CONTENT_TYPE, header::CONTENT_DISPOSITION] {
                if let Some(value) = headers
                    .get(name.as_str())
                    .and_then(|v| header::HeaderValue::from_bytes(v.as_bytes()).ok())
                {
                    answer.insert_header((name, value));
                }
            }
        }
    }
    answer
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "sandbox; default-src 'none'",
        ))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "private, no-store"));
    let length = response.content_length();
    let body = response
        .bytes_stream()
        .map(|chunk| chunk.map_err(actix_web::error::ErrorBadGateway));
    Ok(match length {
        Some(length) => answer.no_chunking(length).streaming(body),
        None => answer.streaming(body),
    })
}

/// How many remote references (`http:`, `https:` or `//` in a `src`,
/// `srcset`, `background`, `href` of a stylesheet, or CSS `url()`) an HTML
/// body holds: what the frame blocks unless asked.
pub fn remote_references(html: &str) -> usize {
    let lower = html.to_ascii_lowercase();
    let mut count = 0;
    for attribute in ["src=", "srcset=", "background=", "url(", "href="] {
        let mut rest = lower.as_str();
        while let Some(at) = rest.find(attribute) {
            rest = &rest[at + attribute.len()..];
            let value =
                rest.trim_start_matches(|c: char| c == '"' || c == '\'' || c.is_whitespace());
            let remote = value.starts_with("http:")
                || value.starts_with("https:")
                || value.starts_with("//");
            // A link is followed only when clicked (and the frame opens
            // nothing); only stylesheets load by themselves.
            let loads = attribute != "href="
                || lower[..lower.len() - rest.len()]
                    .rfind("<link")
                    .is_some_and(|link| !lower[link..lower.len() - rest.len()].contains('>'));
            if remote && loads {
                count += 1;
            }
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::remote_references;

    #[test]
    fn remote_references_are_counted_links_are_not() {
        let html = r#"<img src="https://t.example/p.gif"><img src='cid:logo'><div style="background: url(http://x/y.png)">
            <a href="https://example.com">link</a><link rel=stylesheet href="//cdn/x.css"><img SRC=http://a/b></div>"#;
        assert_eq!(remote_references(html), 4);
        assert_eq!(remote_references("<p>plain <b>text</b></p>"), 0);
    }
}
