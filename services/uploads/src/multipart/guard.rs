//! A watch on the raw multipart bytes before the parser sees them: it counts
//! parts and measures each part's header block, so `limits.max_parts` and
//! `limits.max_part_header_bytes` are enforced as the bytes arrive. The
//! parser itself has no such limits: without this, a header block that never
//! ends would be buffered, and searched again, until the whole request cap.
//!
//! The watch is the one judge of where parts begin and end, and it is strict
//! so that actix-multipart can never see a part it did not count. The parser
//! ends a part at a bare `\r--boundary` and at any line that merely starts
//! with the boundary (`--boundaryX`), where RFC 2046 needs `CRLF--boundary`
//! followed by `CRLF` or `--`; a client then got more parts past the limits
//! than the watch counted, or a file cut short without a word. So every
//! occurrence of `--boundary` in the body must be a whole delimiter: preceded
//! by CRLF (or opening the body) and followed by CRLF or `--`. Anything else
//! is refused: RFC 2046 (5.1.1) forbids the boundary inside a part, so an
//! honest client never sends it. (A part's own `Content-Length`, which the
//! parser also honours, is refused where parts are read, in `super`.)

use memchr::memmem;

/// Which limit or rule the bytes crossed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crossed {
    /// More parts than allowed.
    Parts,
    /// A header block too large.
    HeaderBytes,
    /// `--boundary` where it is not a whole delimiter.
    StrayBoundary,
    /// The body does not open with `--boundary` (a preamble), or closes
    /// before its first part.
    NoOpening,
}

/// Where in the body the watch is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// Opening the body: `matched` bytes of `--boundary` seen so far.
    Opening { matched: usize },
    /// Just after `--boundary`: `--` ends the body, CRLF starts a part.
    AfterDelimiter { seen: [u8; 2], len: usize },
    /// In a part's header block.
    Headers { len: usize },
    /// In a part's content.
    Content,
    /// After the closing delimiter; the rest is ignored.
    Done,
}

/// Counts parts and header bytes of one multipart body.
#[derive(Debug)]
pub struct Watch {
    delimiter: DelimiterScan,
    blank_line: Finder,
    place: Place,
    parts: usize,
    max_parts: usize,
    max_header_bytes: usize,
}

impl Watch {
    /// A watch for a body with `boundary`.
    pub fn new(boundary: &str, max_parts: usize, max_header_bytes: usize) -> Self {
        let delimiter = DelimiterScan::new(boundary);
        Self {
            delimiter,
            blank_line: Finder::new(b"\r\n\r\n".to_vec()),
            place: Place::Opening { matched: 0 },
            parts: 0,
            max_parts,
            max_header_bytes,
        }
    }

    /// Whether the closing delimiter has been seen.
    pub fn closed(&self) -> bool {
        self.place == Place::Done
    }

    /// Parts seen so far.
    pub fn parts(&self) -> usize {
        self.parts
    }

    /// Watches the next chunk of the body.
    pub fn feed(&mut self, mut chunk: &[u8]) -> Result<(), Crossed> {
        while !chunk.is_empty() {
            match self.place {
                Place::Opening { matched } => {
                    // No preamble: the parser reads one differently (it skips
                    // a closing delimiter in it, and takes any line starting
                    // `boundary--` as the end), and browsers never send one.
                    let opening = self.delimiter.needle();
                    let take = (opening.len() - matched).min(chunk.len());
                    if chunk[..take] != opening[matched..matched + take] {
                        return Err(Crossed::NoOpening);
                    }
                    chunk = &chunk[take..];
                    self.place = if matched + take == opening.len() {
                        Place::AfterDelimiter {
                            seen: [0; 2],
                            len: 0,
                        }
                    } else {
                        Place::Opening {
                            matched: matched + take,
                        }
                    };
                }
                Place::Content => match self.delimiter.find(chunk)? {
                    Some(end) => {
                        self.place = Place::AfterDelimiter {
                            seen: [0; 2],
                            len: 0,
                        };
                        chunk = &chunk[end..];
                    }
                    None => return Ok(()),
                },
                Place::AfterDelimiter { mut seen, mut len } => {
                    seen[len] = chunk[0];
                    len += 1;
                    chunk = &chunk[1..];
                    if len < 2 {
                        self.place = Place::AfterDelimiter { seen, len };
                        continue;
                    }
                    match &seen {
                        // A body must hold at least one part (RFC 2046).
                        b"--" if self.parts == 0 => return Err(Crossed::NoOpening),
                        b"--" => {
                            self.place = Place::Done;
                            return Ok(());
                        }
                        b"\r\n" => {}
                        // `--boundaryX`, or padding the parser does not take.
                        _ => return Err(Crossed::StrayBoundary),
                    }
                    self.parts += 1;
                    if self.parts > self.max_parts {
                        return Err(Crossed::Parts);
                    }
                    // As the parser does: the header block runs from here to
                    // the first blank line (CRLF CRLF).
                    self.blank_line.reset();
                    self.place = Place::Headers { len: 0 };
                }
                Place::Headers { len } => match self.blank_line.find(chunk) {
                    Some(end) => {
                        self.check_header_len(len + end)?;
                        // Content starts after the blank line: a delimiter
                        // needs a CRLF of its own after it.
                        self.delimiter.restart();
                        self.place = Place::Content;
                        chunk = &chunk[end..];
                    }
                    None => {
                        self.check_header_len(len + chunk.len())?;
                        self.place = Place::Headers {
                            len: len + chunk.len(),
                        };
                        return Ok(());
                    }
                },
                Place::Done => return Ok(()),
            }
        }
        Ok(())
    }

    fn check_header_len(&self, len: usize) -> Result<(), Crossed> {
        if len > self.max_header_bytes {
            Err(Crossed::HeaderBytes)
        } else {
            Ok(())
        }
    }
}

/// Finds `--boundary` in a stream of chunks and checks that a CRLF comes
/// right before it.
#[derive(Debug)]
struct DelimiterScan {
    needle: Vec<u8>,
    /// The bytes seen since the last restart, at most `needle.len() + 1` of
    /// them: enough for a needle that straddles two chunks, with the two
    /// bytes before it.
    recent: Vec<u8>,
}

impl DelimiterScan {
    fn new(boundary: &str) -> Self {
        let needle = format!("--{boundary}").into_bytes();
        Self {
            recent: Vec::with_capacity(needle.len() + 1),
            needle,
        }
    }

    /// `--boundary`.
    fn needle(&self) -> &[u8] {
        &self.needle
    }

    /// Starts again, with nothing seen.
    fn restart(&mut self) {
        self.recent.clear();
    }

    /// The offset in `chunk` just past the first `--boundary` ending in it;
    /// an error if no CRLF comes right before that one.
    fn find(&mut self, chunk: &[u8]) -> Result<Option<usize>, Crossed> {
        let n = self.needle.len();
        // One that starts in `recent` and ends in this chunk.
        let mut joined = self.recent.clone();
        let seen = joined.len();
        joined.extend_from_slice(&chunk[..chunk.len().min(n - 1)]);
        let found = match memmem::find(&joined, &self.needle) {
            Some(at) => Some((at + n - seen, joined[..at].ends_with(b"\r\n"))),
            None => memmem::find(chunk, &self.needle).map(|at| {
                let crlf = if at >= 2 {
                    &chunk[at - 2..at] == b"\r\n"
                } else {
                    let mut before = self.recent.clone();
                    before.extend_from_slice(&chunk[..at]);
                    before.ends_with(b"\r\n")
                };
                (at + n, crlf)
            }),
        };
        match found {
            Some((_, false)) => Err(Crossed::StrayBoundary),
            Some((end, true)) => {
                self.recent.clear();
                Ok(Some(end))
            }
            None => {
                let keep = n + 1;
                if chunk.len() >= keep {
                    self.recent.clear();
                    self.recent.extend_from_slice(&chunk[chunk.len() - keep..]);
                } else {
                    self.recent.extend_from_slice(chunk);
                    let excess = self.recent.len().saturating_sub(keep);
                    self.recent.drain(..excess);
                }
                Ok(None)
            }
        }
    }
}

/// Finds a needle in a stream of chunks, including one that straddles two.
#[derive(Debug)]
struct Finder {
    needle: Vec<u8>,
    /// The last `needle.len() - 1` bytes seen, at most.
    tail: Vec<u8>,
}

impl Finder {
    fn new(needle: Vec<u8>) -> Self {
        Self {
            tail: Vec::with_capacity(needle.len()),
            needle,
        }
    }

    /// Forgets what was seen.
    fn reset(&mut self) {
        self.tail.clear();
    }

    /// The offset in `chunk` just past the first needle ending in it.
    fn find(&mut self, chunk: &[u8]) -> Option<usize> {
        let keep = self.needle.len() - 1;
        if !self.tail.is_empty() {
            // A needle that starts in the tail and ends in this chunk.
            let mut joined = self.tail.clone();
            joined.extend_from_slice(&chunk[..chunk.len().min(keep)]);
            if let Some(at) = memmem::find(&joined, &self.needle) {
                let end = at + self.needle.len() - self.tail.len();
                self.tail.clear();
                return Some(end);
            }
        }
        if let Some(at) = memmem::find(chunk, &self.needle) {
            self.tail.clear();
            return Some(at + self.needle.len());
        }
        self.remember(chunk);
        None
    }

    fn remember(&mut self, bytes: &[u8]) {
        let keep = self.needle.len() - 1;
        if bytes.len() >= keep {
            self.tail.clear();
            self.tail.extend_from_slice(&bytes[bytes.len() - keep..]);
        } else {
            self.tail.extend_from_slice(bytes);
            let excess = self.tail.len().saturating_sub(keep);
            self.tail.drain(..excess);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(parts: &[(&str, &str)]) -> Vec<u8> {
        let mut body = Vec::new();
        for (headers, content) in parts {
            body.extend_from_slice(format!("--XyZ\r\n{headers}\r\n\r\n{content}\r\n").as_bytes());
        }
        body.extend_from_slice(b"--XyZ--\r\n");
        body
    }

    /// Feeds `bytes` in chunks of every size from 1 up, so every chunk edge
    /// falls in every place at least once.
    fn feed_in_every_chunking(
        bytes: &[u8],
        max_parts: usize,
        max_header: usize,
    ) -> Vec<Result<usize, Crossed>> {
        (1..=bytes.len().min(64))
            .map(|size| {
                let mut watch = Watch::new("XyZ", max_parts, max_header);
                for chunk in bytes.chunks(size) {
                    watch.feed(chunk)?;
                }
                assert!(watch.closed());
                Ok(watch.parts())
            })
            .collect()
    }

    #[test]
    fn parts_are_counted_whatever_the_chunking() {
        let bytes = body(&[
            ("Content-Disposition: form-data; name=\"a\"", "one"),
            (
                "Content-Disposition: form-data; name=\"f\"; filename=\"x\"",
                "almost \r\n--XyQ, -XyZ and --Xy\rZ but not",
            ),
            ("Content-Disposition: form-data; name=\"b\"", ""),
        ]);
        for result in feed_in_every_chunking(&bytes, 3, 100) {
            assert_eq!(result, Ok(3));
        }
        for result in feed_in_every_chunking(&bytes, 2, 100) {
            assert_eq!(result, Err(Crossed::Parts));
        }
    }

    /// Feeds `bytes` in every chunking and gives the first refusal of each.
    fn refusals(bytes: &[u8]) -> Vec<Option<Crossed>> {
        (1..=bytes.len().min(64))
            .map(|size| {
                let mut watch = Watch::new("XyZ", 100, 1000);
                bytes.chunks(size).find_map(|chunk| watch.feed(chunk).err())
            })
            .collect()
    }

    #[test]
    fn the_boundary_anywhere_but_in_a_whole_delimiter_is_refused() {
        let disposition = "Content-Disposition: form-data; name=\"f\"; filename=\"x\"";
        for content in [
            // A bare CR before it (the parser ends the part there).
            "abc\r--XyZ\r\nContent-Disposition: form-data; name=\"g\"\r\n\r\nx",
            // The boundary with more after it (the parser ends the part there too).
            "abc\r\n--XyZX more",
            // Inside the content, with no line break.
            "abc--XyZ--",
            // Padding after the delimiter, which the parser does not take.
            "abc\r\n--XyZ \r\n",
            // Opening the content, with no CRLF of its own.
            "--XyZ\r\nContent-Disposition: form-data; name=\"g\"\r\n\r\nx",
        ] {
            let bytes = body(&[(disposition, content)]);
            for refusal in refusals(&bytes) {
                assert_eq!(refusal, Some(Crossed::StrayBoundary), "{content:?}");
            }
        }
        // An empty part is a CRLF and then the delimiter: allowed.
        let bytes = body(&[(disposition, ""), (disposition, "\r\n")]);
        for refusal in refusals(&bytes) {
            assert_eq!(refusal, None);
        }
    }

    #[test]
    fn a_header_block_over_the_limit_is_caught() {
        let long = format!(
            "Content-Disposition: form-data; name=\"{}\"",
            "n".repeat(200)
        );
        let bytes = body(&[(&long, "x")]);
        for result in feed_in_every_chunking(&bytes, 10, 150) {
            assert_eq!(result, Err(Crossed::HeaderBytes));
        }
        for result in feed_in_every_chunking(&bytes, 10, long.len() + 4) {
            assert_eq!(result, Ok(1));
        }
    }

    #[test]
    fn a_header_block_that_never_ends_is_caught() {
        let mut watch = Watch::new("XyZ", 10, 1024);
        watch.feed(b"--XyZ\r\nContent-Disposition: ").unwrap();
        let endless = [b'a'; 512];
        let crossed = (0..10).find_map(|_| watch.feed(&endless).err());
        assert_eq!(crossed, Some(Crossed::HeaderBytes));
    }

    #[test]
    fn the_body_opens_with_its_boundary_and_holds_a_part() {
        let mut watch = Watch::new("XyZ", 10, 100);
        assert_eq!(
            watch.feed(b"short preamble\r\n--XyZ\r\n"),
            Err(Crossed::NoOpening)
        );
        // Found by the fuzz target (tests/fuzz, uploads_multipart): the
        // parser skips a closing delimiter inside a preamble and reads on.
        let mut watch = Watch::new("XyZ", 10, 100);
        let mut hidden =
            b"--\x00\x00\x00\x94\nContent-Disposition: form-data; name=\"a\"\r\n\r\n".to_vec();
        hidden.extend_from_slice(b"\r\n--XyZ--\r\n\r\n--XyZ\r\nContent-Disposition: form-data; name=\"b\"\r\n\r\nx\r\n--XyZ--\r\n");
        assert_eq!(watch.feed(&hidden), Err(Crossed::NoOpening));
        for size in 1..8 {
            let mut watch = Watch::new("XyZ", 10, 100);
            let refused = b"--XyZ--\r\n"
                .chunks(size)
                .find_map(|c| watch.feed(c).err());
            assert_eq!(
                refused,
                Some(Crossed::NoOpening),
                "no parts, chunks of {size}"
            );
        }
    }

    #[test]
    fn what_follows_the_closing_delimiter_is_not_a_part() {
        let mut bytes = body(&[("Content-Disposition: form-data; name=\"a\"", "1")]);
        bytes.extend_from_slice(b"\r\n--XyZ\r\nepilogue that looks like a part");
        for result in feed_in_every_chunking(&bytes, 1, 100) {
            assert_eq!(result, Ok(1));
        }
    }
}
