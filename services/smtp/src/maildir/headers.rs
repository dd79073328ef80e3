//! The trace headers each stored copy begins with (RFC 5321 §4.4).

use time::format_description::well_known::Rfc2822;

use super::Envelope;
use crate::mailbox::Mailbox;

/// `text` made safe inside a header field: no CR, LF or other control
/// characters (nothing a client sends can start a header of its own), at
/// most 256 characters.
pub fn header_safe(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(256).collect()
}

/// `Return-Path:`, `Delivered-To:` and `Received:` for one copy, each ending in CRLF.
pub fn trace_headers(envelope: &Envelope, mailbox: &Mailbox, server_name: &str) -> String {
    let date = envelope
        .received_at
        .to_offset(time::UtcOffset::UTC)
        .format(&Rfc2822)
        .expect("a UTC time always formats as RFC 2822");
    let recipient = header_safe(&mailbox.address);
    format!(
        "Return-Path: <{sender}>\r\n\
         Delivered-To: {recipient}\r\n\
         Received: from {helo} ([{client}])\r\n\
         \tby {server} (inlet-smtp) with ESMTP id {id}\r\n\
         \tfor <{recipient}>; {date}\r\n",
        sender = header_safe(&envelope.sender),
        helo = header_safe(&envelope.helo),
        client = envelope.client,
        server = header_safe(server_name),
        id = header_safe(&envelope.id),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_a_client_sends_can_start_a_header() {
        let envelope = Envelope {
            sender: "me@me.com>\r\nBcc: victim@example.com".into(),
            helo: "client\nX-Injected: yes".into(),
            client: "192.0.2.7".parse().unwrap(),
            id: "abc".into(),
            received_at: time::macros::datetime!(2026-11-26 06:00:00 UTC),
        };
        let mailbox = Mailbox {
            user: "you".into(),
            address: "you@example.com".into(),
        };
        let headers = trace_headers(&envelope, &mailbox, "mx.example");
        let lines: Vec<&str> = headers.split("\r\n").collect();
        assert_eq!(lines[0], "Return-Path: <me@me.com>Bcc: victim@example.com>");
        assert_eq!(lines[1], "Delivered-To: you@example.com");
        assert!(
            lines[2].starts_with("Received: from clientX-Injected: yes ([192.0.2.7])"),
            "{headers}"
        );
        assert!(
            lines[4].ends_with("Thu, 26 Nov 2026 06:00:00 +0000"),
            "{headers}"
        );
        // Every line but the last (empty, after the final CRLF) is a header or its folding.
        assert!(lines[..5]
            .iter()
            .all(|l| l.contains(": ") || l.starts_with('\t')));
        assert_eq!(headers.matches('\n').count(), 5);
    }
}
