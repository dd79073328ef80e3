//! A message's bytes between the 354 and the lone dot, as RFC 5321 (4.5.2)
//! has them: every byte carried exactly (8BITMIME, Latin-1, binary), a
//! leading dot removed from each line that has one ("dot stuffing"), and the
//! message ended by CRLF "." CRLF, whose first CRLF is the message's own.
//!
//! samotop's data grammar took only UTF-8: one other byte and it waited for
//! more input for ever, holding everything that came after. This decoder is
//! a byte-at-a-time state machine with no buffer of its own, so a session's
//! memory does not depend on what the client sends; lines are bounded by
//! `smtp.max_data_line_bytes`.

/// Where the decoder is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    /// At the start of a line (after CRLF, or right after the 354).
    LineStart,
    /// A dot opened the line: it is either stuffing or the end.
    Dot,
    /// A dot then CR opened the line: LF next ends the message.
    DotCr,
    /// Within a line; `after_cr` when the last byte was CR.
    InLine { after_cr: bool },
}

/// What a chunk of input held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoded {
    /// The message goes on.
    More,
    /// The message ended; `consumed` bytes of the chunk were its end.
    End {
        /// Bytes of the chunk up to and including the final dot's LF.
        consumed: usize,
    },
}

/// A line longer than the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a line inside DATA is longer than {limit} bytes")]
pub struct LineTooLong {
    /// `smtp.max_data_line_bytes`.
    pub limit: usize,
}

/// Decodes one message's DATA.
#[derive(Debug)]
pub struct BodyDecoder {
    at: At,
    /// Bytes since the last LF.
    line: usize,
    max_line: usize,
}

impl BodyDecoder {
    /// A decoder for a message whose lines are at most `max_line` bytes
    /// (CRLF included).
    pub fn new(max_line: usize) -> Self {
        Self {
            at: At::LineStart,
            line: 0,
            max_line,
        }
    }

    /// Decodes `input`, appending the message's bytes to `out`.
    pub fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<Decoded, LineTooLong> {
        for (i, &byte) in input.iter().enumerate() {
            self.line += 1;
            if self.line > self.max_line {
                return Err(LineTooLong {
                    limit: self.max_line,
                });
            }
            if byte == b'\n' {
                self.line = 0;
            }
            self.at = match (self.at, byte) {
                (At::LineStart, b'.') => At::Dot,
                (At::Dot, b'\r') => At::DotCr,
                (At::DotCr, b'\n') => return Ok(Decoded::End { consumed: i + 1 }),
                // A stuffed dot: dropped, the rest of the line is content.
                (At::Dot, _) => content(out, byte, false),
                // `.` CR then not LF: the CR is content too.
                (At::DotCr, _) => {
                    out.push(b'\r');
                    content(out, byte, true)
                }
                (At::LineStart, _) => content(out, byte, false),
                (At::InLine { after_cr }, _) => content(out, byte, after_cr),
            };
        }
        Ok(Decoded::More)
    }
}

/// Keeps `byte`; only CRLF starts a new line (a bare LF does not).
fn content(out: &mut Vec<u8>, byte: u8, after_cr: bool) -> At {
    out.push(byte);
    match byte {
        b'\n' if after_cr => At::LineStart,
        b'\r' => At::InLine { after_cr: true },
        _ => At::InLine { after_cr: false },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `wire` in chunks of `size`, giving the message and the bytes
    /// left after its end.
    fn decode_in_chunks(wire: &[u8], size: usize) -> (Vec<u8>, Vec<u8>) {
        let mut decoder = BodyDecoder::new(1000);
        let mut out = Vec::new();
        let mut offset = 0;
        for chunk in wire.chunks(size) {
            match decoder.decode(chunk, &mut out).unwrap() {
                Decoded::More => offset += chunk.len(),
                Decoded::End { consumed } => {
                    return (out, wire[offset + consumed..].to_vec());
                }
            }
        }
        panic!("no end in {:?}", String::from_utf8_lossy(wire));
    }

    fn decodes_to(wire: &[u8], message: &[u8], rest: &[u8]) {
        for size in 1..=wire.len() {
            let (out, left) = decode_in_chunks(wire, size);
            assert_eq!(out, message, "chunks of {size}");
            assert_eq!(left, rest, "chunks of {size}");
        }
    }

    #[test]
    fn every_byte_is_carried_and_the_final_crlf_is_the_messages() {
        decodes_to(
            b"Subject: caf\xe9\r\n\r\n\x00\xff\x80 binary\r\n.\r\nQUIT\r\n",
            b"Subject: caf\xe9\r\n\r\n\x00\xff\x80 binary\r\n",
            b"QUIT\r\n",
        );
    }

    #[test]
    fn a_leading_dot_is_removed_once_per_line() {
        decodes_to(
            b"..one\r\n...two\r\n.\rthree\r\nfour.\r\n.\r\n",
            b".one\r\n..two\r\n\rthree\r\nfour.\r\n",
            b"",
        );
    }

    #[test]
    fn only_crlf_dot_crlf_ends_the_message() {
        decodes_to(
            b"a\n.\nb\r.\rc\r\n.x\r\n.\r\n",
            b"a\n.\nb\r.\rc\r\nx\r\n",
            b"",
        );
        // An empty message.
        decodes_to(b".\r\n", b"", b"");
    }

    #[test]
    fn a_line_over_the_limit_is_refused() {
        let mut decoder = BodyDecoder::new(11);
        let mut out = Vec::new();
        assert_eq!(
            decoder.decode(b"123456789\r\n", &mut out),
            Ok(Decoded::More)
        );
        assert_eq!(
            decoder.decode(b"123456789012", &mut out),
            Err(LineTooLong { limit: 11 })
        );
    }
}
