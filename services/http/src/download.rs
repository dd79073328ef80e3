//! How a stored thing a client sent is handed back: as an attachment, never
//! sniffed into another type, never run as a page of this site.

use actix_web::http::header::{
    self, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue, HeaderMap,
    HeaderValue,
};

/// Marks a response as not to be sniffed nor run as a page, even by a
/// browser that ignores its disposition.
pub fn harden(headers: &mut HeaderMap) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
}

/// `attachment` with `name` as `filename`, and as `filename*` (RFC 6266)
/// when it is not plain ASCII (`filename` then has `_` for each other
/// character). `name` must already be free of control characters and quotes.
pub fn attachment(name: &str) -> ContentDisposition {
    let mut parameters = Vec::with_capacity(2);
    if name.is_ascii() {
        parameters.push(DispositionParam::Filename(name.to_owned()));
    } else {
        let fallback = name
            .chars()
            .map(|c| if c.is_ascii() { c } else { '_' })
            .collect();
        parameters.push(DispositionParam::Filename(fallback));
        parameters.push(DispositionParam::FilenameExt(ExtendedValue {
            charset: Charset::Ext("UTF-8".into()),
            language_tag: None,
            value: name.as_bytes().to_vec(),
        }));
    }
    ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters,
    }
}
