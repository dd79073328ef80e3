//! `GET /files` (stored files, newest first, a page at a time) and
//! `GET /files/{name}` (one file, as an attachment, with ETag and Range).

use actix_files::NamedFile;
use actix_web::http::header::{
    self, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
    HeaderValue,
};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

use crate::error::UploadsError;
use crate::state::AppState;
use crate::store::{is_stored_name, list, Cursor, Listed};

/// One page of `GET /files`.
#[derive(Serialize)]
struct Page {
    files: Vec<Listed>,
    /// Pass as `?cursor=` for the next (older) page; `null` on the last page.
    next_cursor: Option<String>,
}

/// Handles `GET /files?limit=N&cursor=C`.
pub async fn list_files(
    query: web::Query<Vec<(String, String)>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UploadsError> {
    let max = state.limits.max_list_limit;
    let mut limit = state.limits.default_list_limit.min(max);
    let mut cursor = None;
    for (key, value) in query.into_inner() {
        match key.as_str() {
            "limit" => {
                limit = value
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=max).contains(n))
                    .ok_or_else(|| {
                        UploadsError::BadQuery(format!(
                            "limit must be a whole number from 1 to {max}"
                        ))
                    })?;
            }
            "cursor" => {
                cursor = Some(value.parse::<Cursor>().map_err(|()| {
                    UploadsError::BadQuery("cursor must be a value from next_cursor".into())
                })?);
            }
            _ => {}
        }
    }
    let dir = state.uploads_dir.clone();
    let (files, next) = web::block(move || list(&dir, cursor.as_ref(), limit))
        .await
        .map_err(|err| UploadsError::Store(std::io::Error::other(err)))?
        .map_err(UploadsError::Store)?;
    Ok(HttpResponse::Ok().json(Page {
        files,
        next_cursor: next.map(|c| c.to_string()),
    }))
}

/// Handles `GET /files/{name}`.
pub async fn download(
    req: HttpRequest,
    name: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UploadsError> {
    let name = name.into_inner();
    if !is_stored_name(&name) {
        return Err(UploadsError::NotFound);
    }
    let path = state.uploads_dir.join(&name);
    // Only a regular file directly in the folder; never a link out of it.
    match tokio::fs::symlink_metadata(&path).await {
        Ok(info) if info.is_file() => {}
        _ => return Err(UploadsError::NotFound),
    }
    let file = NamedFile::open_async(&path)
        .await
        .map_err(|_| UploadsError::NotFound)?
        .set_content_disposition(attachment(name));
    let mut res = file.into_response(&req);
    // What clients uploaded is never run as a page of this site, even by a
    // browser that ignores the attachment disposition.
    let headers = res.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    Ok(res)
}

/// `attachment` with the name as `filename`, and as `filename*` (RFC 6266)
/// when it is not plain ASCII.
fn attachment(name: String) -> ContentDisposition {
    let mut parameters = Vec::with_capacity(2);
    if name.is_ascii() {
        parameters.push(DispositionParam::Filename(name));
    } else {
        let fallback = name
            .chars()
            .map(|c| if c.is_ascii() { c } else { '_' })
            .collect();
        parameters.push(DispositionParam::Filename(fallback));
        parameters.push(DispositionParam::FilenameExt(ExtendedValue {
            charset: Charset::Ext("UTF-8".into()),
            language_tag: None,
            value: name.into_bytes(),
        }));
    }
    ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters,
    }
}
