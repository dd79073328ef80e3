//! `GET /files` (stored files, newest first, a page at a time),
//! `GET /files/{name}` (one file, as an attachment, with ETag and Range) and
//! `GET /files/{name}/meta` (what is known about it), and
//! `DELETE /files/{name}` (remove it).

use actix_files::NamedFile;
use actix_web::{web, HttpRequest, HttpResponse};
use inlet_http::download::{attachment, harden};
use inlet_http::paging::{Envelope, PageQuery, PageSizes};

use inlet_common::publish::{event, event_now, FileDeleted};
use inlet_common::retention::Reason;

use crate::error::UploadsError;
use crate::state::AppState;
use crate::store::{Cursor, Download, FileStore};

/// The page envelope of `/files`.
const ENVELOPE: Envelope = Envelope { items: "files" };

/// Handles `GET /files?limit=N&cursor=C`.
pub async fn list_files(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UploadsError> {
    let sizes = PageSizes {
        default_limit: state.limits.default_list_limit,
        max_limit: state.limits.max_list_limit,
    };
    let PageQuery { limit, cursor } = PageQuery::<Cursor>::parse(req.query_string(), sizes)?;
    let (files, next) = state
        .store
        .list(cursor, limit)
        .await
        .map_err(UploadsError::from)?;
    let next = next.map(|c| c.to_string());
    let page = ENVELOPE
        .whole(&files, next.as_deref())
        .map_err(|err| UploadsError::Store(std::io::Error::other(err)))?;
    Ok(HttpResponse::Ok()
        .content_type(mime::APPLICATION_JSON)
        .body(page))
}

/// Handles `GET /files/{name}/meta`: what is known about one stored file,
/// as one item of `/files`.
pub async fn meta(
    name: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UploadsError> {
    let described = state
        .store
        .describe(&name.into_inner())
        .await
        .map_err(UploadsError::from)?
        .ok_or(UploadsError::NotFound)?;
    Ok(HttpResponse::Ok().json(described))
}

/// Handles `GET /files/{name}`.
pub async fn download(
    req: HttpRequest,
    name: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UploadsError> {
    let name = name.into_inner();
    let path = match state.store.open(&name).await? {
        None => return Err(UploadsError::NotFound),
        Some(Download::Remote(object)) => return super::object::serve(&req, object, &name).await,
        Some(Download::Local(path)) => path,
    };
    let file = NamedFile::open_async(&path)
        .await
        .map_err(|_| UploadsError::NotFound)?
        .set_content_disposition(attachment(&name));
    let mut res = file.into_response(&req);
    harden(res.headers_mut());
    Ok(res)
}

/// Handles `DELETE /files/{name}`: 204 once the file and its name are gone
/// from the disk (durably, as `store.sync` says); 404 when there is no such
/// file, which is also the answer to deleting one twice.
pub async fn delete(
    name: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UploadsError> {
    let name = name.into_inner();
    let bytes = state
        .store
        .delete(&name)
        .await
        .map_err(UploadsError::from)?
        .ok_or(UploadsError::NotFound)?;
    state.removals.count(Reason::Deleted, 1, bytes);
    tracing::info!(stored_name = %name, bytes, "file deleted");
    state.publisher.publish(event_now(
        uuid::Uuid::now_v7(),
        "inlet-uploads",
        event::Kind::FileDeleted(FileDeleted {
            stored_name: name,
            reason: Reason::Deleted.as_str().to_owned(),
        }),
    ));
    Ok(HttpResponse::NoContent().finish())
}
