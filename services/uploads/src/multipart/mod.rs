//! Reading a `multipart/form-data` body: text fields kept in memory under
//! `limits.max_field_bytes`, file parts streamed to sealed temporary files,
//! empty file inputs skipped, and every limit enforced as the bytes arrive.
//! Nothing is named here: the caller commits the files once all went well.

pub mod guard;

use std::cell::RefCell;
use std::rc::Rc;

use actix_multipart::{Field, Multipart, MultipartError};
use actix_web::error::PayloadError;
use actix_web::http::header::{ContentDisposition, HeaderMap, CONTENT_LENGTH, CONTENT_TYPE};
use actix_web::web::{self, Bytes};
use actix_web::HttpRequest;
use futures_util::{Stream, StreamExt};
use inlet_http::body::{media_type, BodyReader};
use prometheus_client::metrics::counter::Counter;
use serde::Serialize;

use crate::error::{Cap, UploadsError};
use crate::receive::{FileSink, Sealed};
use crate::state::AppState;
use guard::{Crossed, Watch};

/// What a body missing its closing boundary is told.
const ENDED_EARLY: &str = "the body ended before its closing boundary";

/// What a body with its boundary inside a part is told.
const STRAY_BOUNDARY: &str = "the boundary appears inside a part, or a delimiter line carries \
     more than the boundary: use a boundary that does not occur in the data (RFC 2046, 5.1.1)";

/// What a body that does not open with its boundary, or has no part, is told.
const NO_OPENING: &str =
    "the body must open with --boundary (no preamble) and hold at least one part";

/// The only media type `POST /` takes.
const MULTIPART: &[&str] = &["multipart/form-data"];

/// A text field as the client sent it.
#[derive(Debug, Clone, Serialize)]
pub struct TextField {
    /// The field's name.
    pub name: String,
    /// Its value (invalid UTF-8 replaced).
    pub value: String,
}

/// One part, in the order the client sent them (skipped inputs left out).
#[derive(Debug, Clone, Copy)]
pub enum Part {
    /// The text field at this index of [`Received::fields`].
    Field(usize),
    /// The file at this index of [`Received::files`].
    File(usize),
}

/// Everything a multipart body held.
#[derive(Default)]
pub struct Received {
    /// Parts in arrival order.
    pub parts: Vec<Part>,
    /// Text fields.
    pub fields: Vec<TextField>,
    /// Files, whole and durable, not yet named.
    pub files: Vec<Sealed>,
    /// File inputs submitted without a file.
    pub skipped: usize,
}

/// Reads the whole multipart body of `req`.
pub async fn read(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<Received, UploadsError> {
    media_type(req, MULTIPART).map_err(UploadsError::Body)?;
    let boundary = boundary(req.headers())?;
    let client = inlet_http::client_address::client_address(req).0;
    let limits = &state.limits;
    let reader = BodyReader::new(req, payload, limits.max_request_bytes)
        .map_err(|err| UploadsError::from_body(err, Cap::Request))?;
    let failure = Rc::new(RefCell::new(None));
    let watched = watched_body(
        reader,
        Watch::new(&boundary, limits.max_parts, limits.max_part_header_bytes),
        state,
        Rc::clone(&failure),
    );
    let mut multipart = Multipart::new(req.headers(), watched);
    let mut received = Received::default();
    let explain = |err: MultipartError| {
        failure
            .borrow_mut()
            .take()
            .unwrap_or_else(|| malformed(err))
    };
    while let Some(field) = multipart.next().await {
        let field = field.map_err(explain)?;
        // The parser would read exactly that many bytes and skip the rest of
        // the line, where the watch follows the delimiters: the two could
        // disagree on where the part ends. Browsers never send it.
        if field.headers().contains_key(CONTENT_LENGTH) {
            return Err(UploadsError::Malformed(
                "a part may not carry a Content-Length of its own".into(),
            ));
        }
        let name = field.name().unwrap_or_default().to_owned();
        match file_name(field.content_disposition()) {
            None => {
                let value = read_text(field, &name, limits.max_field_bytes)
                    .await
                    .map_err(|err| err.into_error(explain))?;
                received.parts.push(Part::Field(received.fields.len()));
                received.fields.push(TextField { name, value });
            }
            Some(original) if original.is_empty() => {
                drain(field).await.map_err(|err| err.into_error(explain))?;
                received.skipped += 1;
            }
            Some(original) => {
                let sealed = read_file(field, state, &name, &original, client)
                    .await
                    .map_err(|err| err.into_error(explain))?;
                received.parts.push(Part::File(received.files.len()));
                received.files.push(sealed);
            }
        }
    }
    Ok(received)
}

/// The boundary parameter of the Content-Type.
/// Refused when given twice: the first wins in the parser, but a proxy in
/// front may take the last.
fn boundary(headers: &HeaderMap) -> Result<String, UploadsError> {
    let media = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok());
    if let Some(media) = &media {
        if media
            .params()
            .filter(|(name, _)| *name == mime::BOUNDARY)
            .count()
            > 1
        {
            return Err(UploadsError::Malformed(
                "the Content-Type gives its boundary more than once".into(),
            ));
        }
    }
    media
        .and_then(|m| m.get_param(mime::BOUNDARY).map(|b| b.as_str().to_owned()))
        .filter(|b| !b.is_empty() && b.len() <= 70)
        .ok_or_else(|| {
            UploadsError::Malformed(
                "the Content-Type needs a boundary of 1 to 70 characters".into(),
            )
        })
}

/// The body as the parser wants it, with the request cap, deadlines, part
/// count and header sizes enforced; a refusal is left in `failure` for the
/// caller, since the parser only passes on an opaque payload error.
fn watched_body(
    reader: BodyReader,
    watch: Watch,
    state: &AppState,
    failure: Rc<RefCell<Option<UploadsError>>>,
) -> impl Stream<Item = Result<Bytes, PayloadError>> + 'static {
    struct Source {
        reader: BodyReader,
        watch: Watch,
        received: Counter,
        failure: Rc<RefCell<Option<UploadsError>>>,
        limits: (usize, usize),
        failed: bool,
    }
    let source = Source {
        reader,
        watch,
        received: state.metrics.bytes_received.clone(),
        failure,
        limits: (state.limits.max_parts, state.limits.max_part_header_bytes),
        failed: false,
    };
    futures_util::stream::unfold(source, |mut source| async move {
        if source.failed {
            return None;
        }
        let refusal = match source.reader.next_chunk().await {
            Ok(None) if source.watch.closed() => return None,
            // Caught here: the parser waits forever for more of a body that
            // ends with a line break but without its closing boundary.
            Ok(None) => UploadsError::Malformed(ENDED_EARLY.into()),
            Ok(Some(chunk)) => {
                source.received.inc_by(chunk.len() as u64);
                match source.watch.feed(&chunk) {
                    Ok(()) => return Some((Ok(chunk), source)),
                    Err(Crossed::Parts) => UploadsError::TooManyParts {
                        limit: source.limits.0,
                    },
                    Err(Crossed::HeaderBytes) => UploadsError::PartHeadersTooLarge {
                        limit: source.limits.1,
                    },
                    Err(Crossed::StrayBoundary) => UploadsError::Malformed(STRAY_BOUNDARY.into()),
                    Err(Crossed::NoOpening) => UploadsError::Malformed(NO_OPENING.into()),
                }
            }
            Err(err) => UploadsError::from_body(err, Cap::Request),
        };
        source.failure.borrow_mut().replace(refusal);
        source.failed = true;
        Some((Err(PayloadError::Incomplete(None)), source))
    })
    // The parser may poll again after the end.
    .fuse()
}

/// The file name a part carries: `None` for a text field, `Some("")` for a
/// file input submitted empty. `filename*` (RFC 5987) wins over `filename`.
fn file_name(disposition: Option<&ContentDisposition>) -> Option<String> {
    let disposition = disposition?;
    if let Some(ext) = disposition.get_filename_ext() {
        return Some(String::from_utf8_lossy(&ext.value).into_owned());
    }
    disposition.get_filename().map(str::to_owned)
}

/// Why reading one part stopped.
enum PartError {
    /// The parser (or the body under it) failed.
    Parse(MultipartError),
    /// A limit or the store refused the part.
    Refused(UploadsError),
}

impl PartError {
    fn into_error(self, explain: impl FnOnce(MultipartError) -> UploadsError) -> UploadsError {
        match self {
            PartError::Parse(err) => explain(err),
            PartError::Refused(err) => err,
        }
    }
}

impl From<MultipartError> for PartError {
    fn from(err: MultipartError) -> Self {
        PartError::Parse(err)
    }
}

impl From<UploadsError> for PartError {
    fn from(err: UploadsError) -> Self {
        PartError::Refused(err)
    }
}

async fn read_text(mut field: Field, name: &str, limit: usize) -> Result<String, PartError> {
    let mut value = Vec::new();
    while let Some(chunk) = field.next().await {
        let chunk = chunk?;
        if value.len() + chunk.len() > limit {
            return Err(UploadsError::FieldTooLarge {
                field: name.to_owned(),
                limit,
            }
            .into());
        }
        value.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8_lossy(&value).into_owned())
}

async fn drain(mut field: Field) -> Result<(), PartError> {
    while let Some(chunk) = field.next().await {
        chunk?;
    }
    Ok(())
}

async fn read_file(
    mut field: Field,
    state: &AppState,
    name: &str,
    original: &str,
    client: Option<std::net::IpAddr>,
) -> Result<Sealed, PartError> {
    let saving = |err: UploadsError| PartError::Refused(err.saving(original));
    let mut sink = FileSink::start(state, client);
    while let Some(chunk) = field.next().await {
        sink.write(&chunk?).await.map_err(saving)?;
    }
    sink.seal(name, original).await.map_err(saving)
}

/// A parser error, in words a person can act on.
fn malformed(err: MultipartError) -> UploadsError {
    let why = match err {
        MultipartError::Incomplete => ENDED_EARLY,
        MultipartError::BoundaryMissing => "a boundary line is missing or malformed",
        MultipartError::Parse(_) => "a part's headers cannot be read",
        MultipartError::ContentDispositionMissing
        | MultipartError::ContentDispositionNameMissing => {
            "a part has no Content-Disposition: form-data with a name"
        }
        MultipartError::Nested => "nested multipart bodies are not taken",
        MultipartError::Payload(_) => "the body could not be read",
        _ => "the body cannot be parsed",
    };
    UploadsError::Malformed(why.to_owned())
}
