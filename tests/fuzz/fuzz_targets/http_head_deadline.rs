//! The head deadline's end-of-head detection: fed in any pieces, it sees a
//! blank line (CRLF CRLF) exactly when the whole input has one.
#![no_main]

use inlet_http::head_deadline::Tail;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (u8, &[u8])| {
    let (seed, bytes) = input;
    let whole = bytes.windows(4).any(|w| w == b"\r\n\r\n");
    let mut tail = Tail::default();
    let mut seen = false;
    let mut rest = bytes;
    // Piece sizes from 1 to 8, drawn from the seed.
    let mut state = u32::from(seed) | 0x100;
    while !rest.is_empty() {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let cut = (state % 8 + 1) as usize;
        let (piece, after) = rest.split_at(cut.min(rest.len()));
        seen |= tail.ends_head_with(piece);
        tail.keep_end_of(piece);
        rest = after;
    }
    assert_eq!(seen, whole);
});
