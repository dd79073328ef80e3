//! Serving a file kept in S3 as the volume's files are served: an
//! attachment with `ETag`, `Last-Modified`, `If-None-Match` and one byte
//! range (`Range`, `If-Range`), streamed from the bucket as it comes.

use actix_files::HttpRange;
use actix_web::body::SizedStream;
use actix_web::http::header::{self, HeaderValue, HttpDate};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use inlet_http::download::{attachment, harden};

use crate::error::UploadsError;
use crate::store::s3::RemoteFile;

/// The response to `GET`/`HEAD /files/{name}` for `file`.
pub async fn serve(
    req: &HttpRequest,
    file: RemoteFile,
    name: &str,
) -> Result<HttpResponse, UploadsError> {
    let etag = file.etag.clone();
    if etag
        .as_deref()
        .is_some_and(|tag| matches_any(req, header::IF_NONE_MATCH, tag))
    {
        let mut res = HttpResponse::NotModified().finish();
        add_validators(&mut res, &file);
        return Ok(res);
    }
    let range = match wanted_range(req, &file) {
        Ok(range) => range,
        Err(()) => {
            let mut res = HttpResponse::RangeNotSatisfiable()
                .insert_header((header::CONTENT_RANGE, format!("bytes */{}", file.size)))
                .finish();
            harden(res.headers_mut());
            return Ok(res);
        }
    };
    let (status, length) = match range {
        Some((first, last)) => (StatusCode::PARTIAL_CONTENT, last - first + 1),
        None => (StatusCode::OK, file.size),
    };
    let mut res = HttpResponse::build(status);
    res.content_type(mime::APPLICATION_OCTET_STREAM)
        .insert_header(attachment(name))
        .insert_header((header::ACCEPT_RANGES, "bytes"));
    if let Some((first, last)) = range {
        res.insert_header((
            header::CONTENT_RANGE,
            format!("bytes {first}-{last}/{}", file.size),
        ));
    }
    let mut res = if req.method() == Method::HEAD {
        // The length of what a GET would send; no body is sent for HEAD.
        res.body(SizedStream::new(
            length,
            futures_util::stream::empty::<std::io::Result<bytes::Bytes>>(),
        ))
    } else {
        let bytes = file.bytes(range).await?;
        res.body(SizedStream::new(length, bytes))
    };
    add_validators(&mut res, &file);
    harden(res.headers_mut());
    Ok(res)
}

/// The one range asked for, if any and if `If-Range` still holds;
/// `Err` when it cannot be satisfied.
fn wanted_range(req: &HttpRequest, file: &RemoteFile) -> Result<Option<(u64, u64)>, ()> {
    let Some(text) = req
        .headers()
        .get(header::RANGE)
        .and_then(|value| value.to_str().ok())
    else {
        return Ok(None);
    };
    if file.size == 0 {
        return Ok(None);
    }
    if let Some(if_range) = req.headers().get(header::IF_RANGE) {
        // Only a strong entity tag is compared; anything else gets the whole file.
        if file.etag.as_deref().map(str::as_bytes) != Some(if_range.as_bytes()) {
            return Ok(None);
        }
    }
    let ranges = HttpRange::parse(text, file.size).map_err(|_| ())?;
    Ok(ranges
        .first()
        .map(|range| (range.start, range.start + range.length - 1)))
}

/// Whether the request's `name` header lists `etag` (or is `*`).
fn matches_any(req: &HttpRequest, name: header::HeaderName, etag: &str) -> bool {
    req.headers().get_all(name).any(|value| {
        value.to_str().is_ok_and(|list| {
            list.split(',')
                .map(|tag| tag.trim().trim_start_matches("W/"))
                .any(|tag| tag == "*" || tag == etag)
        })
    })
}

fn add_validators(res: &mut HttpResponse, file: &RemoteFile) {
    let headers = res.headers_mut();
    if let Some(tag) = file
        .etag
        .as_deref()
        .and_then(|tag| HeaderValue::from_str(tag).ok())
    {
        headers.insert(header::ETAG, tag);
    }
    if let Ok(date) = HeaderValue::from_str(&HttpDate::from(file.modified).to_string()) {
        headers.insert(header::LAST_MODIFIED, date);
    }
}
