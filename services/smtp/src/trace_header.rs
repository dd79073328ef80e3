//! A message's own `traceparent` header field (the CLI's `--trace` adds
//! one): found while the header section streams by, so the span that stores
//! the message joins the sender's trace.

use std::collections::HashMap;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry_sdk::propagation::TraceContextPropagator;

/// How much of a message is searched for the header section's end.
const MAX_HEADER_BYTES: usize = 64 * 1024;

/// Watches the start of a message body for its `traceparent` field.
#[derive(Debug, Default)]
pub struct HeaderScan {
    seen: Vec<u8>,
    done: bool,
    traceparent: Option<String>,
}

impl HeaderScan {
    /// Looks at the next `chunk` of the body.
    pub fn feed(&mut self, chunk: &[u8]) {
        if self.done {
            return;
        }
        let room = MAX_HEADER_BYTES - self.seen.len();
        self.seen.extend_from_slice(&chunk[..chunk.len().min(room)]);
        let end = find(&self.seen, b"\r\n\r\n").or_else(|| find(&self.seen, b"\n\n"));
        if end.is_none() && self.seen.len() < MAX_HEADER_BYTES {
            return;
        }
        self.conclude(end);
    }

    /// Whether the header section has been seen whole (or the search gave up).
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The message ended: what was seen is all the header section there is.
    pub fn finish(&mut self) {
        if !self.done {
            let end = find(&self.seen, b"\r\n\r\n").or_else(|| find(&self.seen, b"\n\n"));
            self.conclude(end);
        }
    }

    fn conclude(&mut self, end: Option<usize>) {
        let headers = &self.seen[..end.unwrap_or(self.seen.len())];
        self.traceparent = String::from_utf8_lossy(headers).lines().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("traceparent")
                .then(|| value.trim().chars().take(128).collect())
        });
        self.done = true;
        self.seen = Vec::new();
    }

    /// The trace the message asks to join, if it carries a valid `traceparent`.
    pub fn context(&self) -> Option<opentelemetry::Context> {
        use opentelemetry::trace::TraceContextExt;
        let value = self.traceparent.clone()?;
        let carrier = HashMap::from([("traceparent".to_owned(), value)]);
        let context = TraceContextPropagator::new().extract(&carrier);
        context.span().span_context().is_valid().then_some(context)
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::TraceContextExt;

    use super::*;

    #[test]
    fn a_traceparent_in_the_header_section_is_found_across_chunks() {
        let mut scan = HeaderScan::default();
        let message = b"Subject: x\r\ntraceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n\r\nbody\r\n";
        for chunk in message.chunks(5) {
            scan.feed(chunk);
        }
        let context = scan.context().expect("a valid traceparent");
        assert_eq!(
            context.span().span_context().trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
    }

    #[test]
    fn one_in_the_body_or_a_broken_one_is_ignored() {
        let mut scan = HeaderScan::default();
        scan.feed(b"Subject: x\r\n\r\ntraceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n");
        assert!(scan.context().is_none());
        let mut broken = HeaderScan::default();
        broken.feed(b"traceparent: nonsense\r\n\r\n");
        assert!(broken.context().is_none());
    }
}
