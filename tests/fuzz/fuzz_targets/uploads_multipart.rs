//! The multipart guard together with actix-multipart, fed the same bytes:
//! when the guard lets a body through and the parser reads it to the end,
//! the parser saw exactly the parts the guard counted (a part with its own
//! Content-Length is refused before its content is read, as the handler
//! does), and never more than the limit.
#![no_main]

use actix_multipart::Multipart;
use actix_web::http::header::{HeaderMap, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use bytes::Bytes;
use futures::StreamExt;
use inlet_uploads::multipart::guard::Watch;
use libfuzzer_sys::fuzz_target;

const BOUNDARY: &str = "XyZ";
const MAX_PARTS: usize = 8;

fuzz_target!(|input: (u8, &[u8])| {
    let (chunk, body) = input;
    let chunk = usize::from(chunk).max(1);
    let mut watch = Watch::new(BOUNDARY, MAX_PARTS, 512);
    if body.chunks(chunk).any(|piece| watch.feed(piece).is_err()) || !watch.closed() {
        return;
    }
    let mut headers = HeaderMap::new();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_str(&format!("multipart/form-data; boundary={BOUNDARY}")).unwrap(),
    );
    let pieces: Vec<Result<Bytes, actix_web::error::PayloadError>> = body
        .chunks(chunk)
        .map(|p| Ok(Bytes::copy_from_slice(p)))
        .collect();
    let mut multipart = Multipart::new(&headers, futures::stream::iter(pieces));
    let parts = futures::executor::block_on(async {
        let mut parts = 0;
        while let Some(field) = multipart.next().await {
            let Ok(mut field) = field else {
                return None;
            };
            if field.headers().contains_key(CONTENT_LENGTH) {
                return None;
            }
            parts += 1;
            while let Some(piece) = field.next().await {
                piece.ok()?;
            }
        }
        Some(parts)
    });
    if let Some(parts) = parts {
        assert_eq!(parts, watch.parts(), "the parser and the guard disagree");
        assert!(parts <= MAX_PARTS);
    }
});
