//! A watch on the raw multipart bytes before the parser sees them: it counts
//! parts and measures each part's header block, so `limits.max_parts` and
//! `limits.max_part_header_bytes` are enforced as the bytes arrive. The
//! parser itself has no such limits: without this, a header block that never
//! ends would be buffered, and searched again, until the whole request cap.
//!
//! The watch does not parse; it only finds delimiters (`CRLF--boundary`) and
//! the blank line that ends each header block, across chunk edges.

use memchr::memmem;

/// Which limit the bytes crossed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crossed {
    /// More parts than allowed.
    Parts,
    /// A header block (or the preamble before the first part) too large.
    HeaderBytes,
}

/// Where in the body the watch is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// Before the first delimiter: bounded like a header block.
    Preamble { len: usize },
    /// Just after a delimiter: `--` ends the body, a line break starts a part.
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
    delimiter: Finder,
    blank_line: Finder,
    place: Place,
    parts: usize,
    max_parts: usize,
    max_header_bytes: usize,
}

impl Watch {
    /// A watch for a body with `boundary`.
    pub fn new(boundary: &str, max_parts: usize, max_header_bytes: usize) -> Self {
        let mut delimiter = Finder::new(format!("\r\n--{boundary}").into_bytes());
        // The first delimiter may open the body with no line break before it.
        delimiter.prime(b"\r\n");
        Self {
            delimiter,
            blank_line: Finder::new(b"\r\n\r\n".to_vec()),
            place: Place::Preamble { len: 0 },
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
    #[cfg(test)]
    pub fn parts(&self) -> usize {
        self.parts
    }

    /// Watches the next chunk of the body.
    pub fn feed(&mut self, mut chunk: &[u8]) -> Result<(), Crossed> {
        while !chunk.is_empty() {
            match self.place {
                Place::Preamble { len } => match self.delimiter.find(chunk) {
                    Some(end) => {
                        self.check_header_len(len + end)?;
                        self.place = Place::AfterDelimiter {
                            seen: [0; 2],
                            len: 0,
                        };
                        chunk = &chunk[end..];
                    }
                    None => {
                        self.check_header_len(len + chunk.len())?;
                        self.place = Place::Preamble {
                            len: len + chunk.len(),
                        };
                        return Ok(());
                    }
                },
                Place::Content => match self.delimiter.find(chunk) {
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
                    if &seen == b"--" {
                        self.place = Place::Done;
                        return Ok(());
                    }
                    // A line break (or junk the parser will refuse) starts a part.
                    self.parts += 1;
                    if self.parts > self.max_parts {
                        return Err(Crossed::Parts);
                    }
                    // A part without headers is just the delimiter's line
                    // break followed by a blank line.
                    self.blank_line.reset();
                    self.blank_line.prime(&seen);
                    self.place = Place::Headers { len: 0 };
                }
                Place::Headers { len } => match self.blank_line.find(chunk) {
                    Some(end) => {
                        self.check_header_len(len + end)?;
                        self.delimiter.reset();
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

    /// Pretends `bytes` were just seen.
    fn prime(&mut self, bytes: &[u8]) {
        self.remember(bytes);
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
                "almost --XyZ but \r\n--XyQ not",
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
    fn a_preamble_is_bounded_like_a_header_block() {
        let mut watch = Watch::new("XyZ", 10, 100);
        assert_eq!(watch.feed(&[b'p'; 101]), Err(Crossed::HeaderBytes));
        let mut watch = Watch::new("XyZ", 10, 100);
        let mut ok = b"short preamble\r\n".to_vec();
        ok.extend_from_slice(&body(&[(
            "Content-Disposition: form-data; name=\"a\"",
            "1",
        )]));
        watch.feed(&ok).unwrap();
        assert_eq!(watch.parts(), 1);
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
