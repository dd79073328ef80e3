//! The gateway's frame guard against actix-http's own frame parser: when
//! the guard lets a stream of client frames through, every frame actix
//! decodes from it is within the limit, and so is every message its
//! fragments make; and the guard's answer does not depend on chunking.
#![no_main]

use actix_http::ws::{Codec, Frame, Item};
use bytes::BytesMut;
use inlet_gateway::ws::frame_guard::{FrameGuard, Violation};
use libfuzzer_sys::fuzz_target;
use actix_codec::Decoder;

const LIMIT: usize = 256;

/// The guard's verdict on `bytes` fed in pieces of `chunk`: the violation,
/// and how many bytes it passed on before it (a header cut by a piece's edge
/// is partly passed on; actix cannot act on half a header).
fn guard_verdict(bytes: &[u8], chunk: usize) -> Result<(), (Violation, usize)> {
    let mut guard = FrameGuard::new(LIMIT);
    let mut offset = 0;
    for piece in bytes.chunks(chunk.max(1)) {
        if let Err((before, violation)) = guard.inspect(piece) {
            return Err((violation, offset + before));
        }
        offset += piece.len();
    }
    Ok(())
}

fuzz_target!(|input: (u8, &[u8])| {
    let (chunk, bytes) = input;
    let whole = guard_verdict(bytes, bytes.len());
    let chunked = guard_verdict(bytes, usize::from(chunk));
    assert_eq!(chunked.map_err(|(v, _)| v), whole.map_err(|(v, _)| v));
    // What actix reads of the bytes the guard passed on, in the chunked run.
    let passed = match chunked {
        Ok(()) => bytes,
        Err((_, at)) => &bytes[..at],
    };
    // A parser with no limit of its own: only the guard's counts.
    let mut codec = Codec::new().max_size(usize::MAX >> 1);
    let mut buf = BytesMut::from(passed);
    let mut message = 0usize;
    while let Ok(Some(frame)) = codec.decode(&mut buf) {
        let size = match frame {
            Frame::Text(b) | Frame::Binary(b) => {
                message = 0;
                b.len()
            }
            Frame::Continuation(Item::FirstText(b) | Item::FirstBinary(b)) => {
                message = b.len();
                message
            }
            Frame::Continuation(Item::Continue(b) | Item::Last(b)) => {
                message += b.len();
                message
            }
            _ => 0,
        };
        assert!(size <= LIMIT, "a frame or message of {size} bytes got past the guard");
    }
});
