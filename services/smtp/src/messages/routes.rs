//! The `/messages` endpoints; every one needs the read credential.

use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
use actix_web::middleware::from_fn;
use actix_web::{web, HttpRequest, HttpResponse};
use inlet_common::publish::{event, event_now, MailDeleted, Publisher};
use inlet_common::retention::{Reason, RemovalMetrics};
use inlet_http::access::{require_delete, require_read};
use inlet_http::download::{self, harden};
use inlet_http::paging::{Envelope, PageQuery, PageSizes};
use inlet_http::routes::{get_or_head, method_not_allowed};
use serde::Deserialize;

use super::error::MessagesError;
use super::parsed;
use super::stored::{MailCursor, MailFolder, StoredMessage};

/// The page envelope of `/messages`.
const ENVELOPE: Envelope = Envelope { items: "messages" };

/// What the handlers share: the mail folder, the page sizes, and what a
/// delete announces and counts.
#[derive(Debug, Clone)]
pub struct MessagesState {
    /// The stored mail.
    pub folder: MailFolder,
    /// `/messages` page sizes.
    pub sizes: PageSizes,
    /// Announces deletions.
    pub publisher: Publisher,
    /// Counts deletions.
    pub removals: RemovalMetrics,
}

/// Registers the `/messages` endpoints.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/messages")
            .wrap(from_fn(require_read))
            .route(get_or_head().to(list))
            .default_service(method_not_allowed("GET, HEAD")),
    )
    .service(
        web::resource("/messages/{id}")
            .wrap(from_fn(require_read))
            .route(get_or_head().to(one))
            .route(web::delete().to(delete).wrap(from_fn(require_delete)))
            .default_service(method_not_allowed("GET, HEAD, DELETE")),
    )
    .service(
        web::resource("/messages/{id}/raw")
            .wrap(from_fn(require_read))
            .route(get_or_head().to(raw))
            .default_service(method_not_allowed("GET, HEAD")),
    )
    .service(
        web::resource("/messages/{id}/attachments/{index}")
            .wrap(from_fn(require_read))
            .route(get_or_head().to(attachment))
            .default_service(method_not_allowed("GET, HEAD")),
    );
}

/// `DELETE /messages/{id}`: removes the message from its mailbox, durably;
/// 204, or 404 when there is no such message (also the answer to deleting
/// one twice).
async fn delete(
    id: web::Path<String>,
    state: web::Data<MessagesState>,
) -> Result<HttpResponse, MessagesError> {
    let folder = state.folder.clone();
    let id = id.into_inner();
    let message = blocking(move || folder.delete(&id))
        .await?
        .ok_or(MessagesError::NotFound)?;
    state.removals.count(Reason::Deleted, 1, message.size);
    tracing::info!(
        message_id = %message.id,
        mailbox = %message.mailbox,
        bytes = message.size,
        "message deleted"
    );
    state.publisher.publish(event_now(
        uuid::Uuid::now_v7(),
        "inlet-smtp",
        event::Kind::MailDeleted(MailDeleted {
            message_id: message.id,
            mailbox: message.mailbox,
            reason: Reason::Deleted.as_str().to_owned(),
        }),
    ));
    Ok(HttpResponse::NoContent().finish())
}

/// `?mailbox=` of `/messages`.
#[derive(Debug, Deserialize)]
struct MailboxFilter {
    mailbox: Option<String>,
}

/// `GET /messages?mailbox=M&limit=N&cursor=C`: newest first.
async fn list(
    req: HttpRequest,
    state: web::Data<MessagesState>,
) -> Result<HttpResponse, MessagesError> {
    let PageQuery { limit, cursor } =
        PageQuery::<MailCursor>::parse(req.query_string(), state.sizes)?;
    let filter = web::Query::<MailboxFilter>::from_query(req.query_string())
        .map_err(|err| MessagesError::Query(err.to_string()))?
        .into_inner();
    if let Some(mailbox) = &filter.mailbox {
        if !state.folder.has_mailbox(mailbox) {
            let shown: String = mailbox.chars().take(64).collect();
            return Err(MessagesError::NoMailbox(shown));
        }
    }
    let folder = state.folder.clone();
    let summaries = blocking(move || {
        let (page, next) = folder.page(filter.mailbox.as_deref(), cursor.as_ref(), limit)?;
        let summaries = page
            .iter()
            .filter_map(|stored| {
                let raw = std::fs::read(&stored.path).ok()?;
                Some(parsed::summary(stored, &raw))
            })
            .collect::<Vec<_>>();
        Ok((summaries, next))
    })
    .await?;
    let (summaries, next) = summaries;
    let next = next.map(|c| c.to_string());
    let page = ENVELOPE
        .whole(&summaries, next.as_deref())
        .map_err(|err| MessagesError::Read(std::io::Error::other(err)))?;
    Ok(HttpResponse::Ok()
        .content_type(mime::APPLICATION_JSON)
        .body(page))
}

/// `GET /messages/{id}`: headers, bodies, attachments.
async fn one(
    id: web::Path<String>,
    state: web::Data<MessagesState>,
) -> Result<HttpResponse, MessagesError> {
    let (stored, raw) = read(&state, id.into_inner()).await?;
    let detail = web::block(move || parsed::detail(&stored, &raw))
        .await
        .map_err(|err| MessagesError::Read(std::io::Error::other(err)))?;
    Ok(HttpResponse::Ok().json(detail))
}

/// `GET /messages/{id}/raw`: the stored bytes, exactly.
async fn raw(
    id: web::Path<String>,
    state: web::Data<MessagesState>,
) -> Result<HttpResponse, MessagesError> {
    let (stored, raw) = read(&state, id.into_inner()).await?;
    let mut res = HttpResponse::Ok()
        .content_type("message/rfc822")
        .insert_header(ContentDisposition {
            disposition: DispositionType::Inline,
            parameters: vec![DispositionParam::Filename(format!("{}.eml", stored.id))],
        })
        .body(raw);
    harden(res.headers_mut());
    Ok(res)
}

/// `GET /messages/{id}/attachments/{index}`: one attachment, decoded,
/// served like an uploaded file (never run as a page of this site).
async fn attachment(
    path: web::Path<(String, usize)>,
    state: web::Data<MessagesState>,
) -> Result<HttpResponse, MessagesError> {
    let (id, index) = path.into_inner();
    let (_stored, raw) = read(&state, id).await?;
    let found = web::block(move || parsed::attachment(&raw, index))
        .await
        .map_err(|err| MessagesError::Read(std::io::Error::other(err)))?
        .ok_or(MessagesError::NoAttachment)?;
    let name = found.name.unwrap_or_else(|| format!("attachment-{index}"));
    let content_type = found
        .content_type
        .parse::<mime::Mime>()
        .unwrap_or(mime::APPLICATION_OCTET_STREAM);
    // The name came from the message: nothing in it may break the header.
    let name: String = name
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '\\' | '/'))
        .collect();
    let mut res = HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(download::attachment(&name))
        .body(found.bytes);
    harden(res.headers_mut());
    Ok(res)
}

/// The message `id` and its bytes.
async fn read(
    state: &MessagesState,
    id: String,
) -> Result<(StoredMessage, Vec<u8>), MessagesError> {
    let folder = state.folder.clone();
    blocking(move || {
        let Some(stored) = folder.find(&id)? else {
            return Ok(None);
        };
        match std::fs::read(&stored.path) {
            Ok(raw) => Ok(Some((stored, raw))),
            // Removed between the listing and the read.
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    })
    .await?
    .ok_or(MessagesError::NotFound)
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> Result<T, MessagesError> {
    web::block(work)
        .await
        .map_err(|err| MessagesError::Read(std::io::Error::other(err)))?
        .map_err(MessagesError::Read)
}
