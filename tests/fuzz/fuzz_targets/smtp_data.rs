//! The SMTP DATA decoder: stored bytes equal the dot-unstuffed input,
//! whatever the chunking, and any message dot-stuffed and ended with
//! CRLF.CRLF decodes back to itself.
#![no_main]

use inlet_smtp::engine::body::{BodyDecoder, Decoded};
use libfuzzer_sys::fuzz_target;

/// Decodes `wire` fed in chunks of `size`: the message and where it ended.
fn decode(wire: &[u8], size: usize) -> (Vec<u8>, Option<usize>) {
    let mut decoder = BodyDecoder::new(usize::MAX);
    let mut out = Vec::new();
    let mut offset = 0;
    for chunk in wire.chunks(size.max(1)) {
        match decoder.decode(chunk, &mut out).unwrap() {
            Decoded::More => offset += chunk.len(),
            Decoded::End { consumed } => return (out, Some(offset + consumed)),
        }
    }
    (out, None)
}

/// What a client puts on the wire for `message` (RFC 5321, 4.5.2).
fn stuff(message: &[u8]) -> Vec<u8> {
    let mut wire = Vec::new();
    let mut line_start = true;
    for (i, &b) in message.iter().enumerate() {
        if line_start && b == b'.' {
            wire.push(b'.');
        }
        wire.push(b);
        line_start = b == b'\n' && i > 0 && message[i - 1] == b'\r';
    }
    if !message.is_empty() && !message.ends_with(b"\r\n") {
        wire.extend_from_slice(b"\r\n");
    }
    wire.extend_from_slice(b".\r\n");
    wire
}

fuzz_target!(|input: (u8, &[u8])| {
    let (size, bytes) = input;
    // Arbitrary bytes: the same answer in one piece and in chunks.
    let whole = decode(bytes, bytes.len());
    assert_eq!(decode(bytes, usize::from(size)), whole);
    assert!(whole.0.len() <= bytes.len());
    // A message as a client sends it comes back exactly.
    let wire = stuff(bytes);
    let (message, end) = decode(&wire, usize::from(size));
    assert_eq!(end, Some(wire.len()));
    let mut expected = bytes.to_vec();
    if !expected.is_empty() && !expected.ends_with(b"\r\n") {
        expected.extend_from_slice(b"\r\n");
    }
    assert_eq!(message, expected);
});
