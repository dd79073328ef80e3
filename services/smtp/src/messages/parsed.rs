//! What a stored message says, read with `mail-parser` (Stalwart's MIME
//! parser: RFC 2047 words, RFC 2231 names, quoted-printable and base64,
//! legacy charsets; it never panics and reads what it can of a malformed
//! message).

use mail_parser::{Address, Message, MessageParser, MimeHeaders};
use serde::Serialize;

use super::stored::StoredMessage;

/// The header Inlet writes first in every stored message: the trace that
/// stored it. The first one is ours; a client's own comes after it.
pub const TRACE_HEADER: &str = "X-Inlet-Trace-Id";

/// A message as `GET /messages` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Its id.
    pub id: String,
    /// When it arrived, RFC 3339 UTC.
    pub received_at: String,
    /// The W3C trace id of the SMTP session (or the message's own
    /// `traceparent`) that stored it; `null` when unknown.
    pub trace_id: Option<String>,
    /// Its size in bytes, as stored.
    pub size: u64,
    /// The mailbox it is in.
    pub mailbox: String,
    /// `From:` addresses.
    pub from: Vec<Mailbox>,
    /// `To:` addresses.
    pub to: Vec<Mailbox>,
    /// `Subject:`, decoded.
    pub subject: Option<String>,
    /// `Date:`, RFC 3339, as the sender gave it.
    pub date: Option<String>,
    /// How many attachments it has.
    pub attachment_count: usize,
}

/// A name and an address, as a header gives them.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Mailbox {
    /// The display name, decoded.
    pub name: Option<String>,
    /// The address.
    pub address: Option<String>,
}

/// A message as `GET /messages/{id}` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Detail {
    /// What the list shows.
    #[serde(flatten)]
    pub summary: Summary,
    /// `Cc:` addresses.
    pub cc: Vec<Mailbox>,
    /// Every header field of the message, in order, as written.
    pub headers: Vec<HeaderField>,
    /// The text body (the first text part), decoded to UTF-8.
    pub text: Option<String>,
    /// The HTML body (the first HTML part), decoded to UTF-8.
    pub html: Option<String>,
    /// The attachments.
    pub attachments: Vec<AttachmentInfo>,
}

/// One header field.
#[derive(Debug, Clone, Serialize)]
pub struct HeaderField {
    /// Its name.
    pub name: String,
    /// Its value, as written (unfolded, trimmed).
    pub value: String,
}

/// One attachment, as the detail lists it.
#[derive(Debug, Clone, Serialize)]
pub struct AttachmentInfo {
    /// Its index, for `/messages/{id}/attachments/{index}`.
    pub index: usize,
    /// Its file name, decoded; `null` when it has none.
    pub name: Option<String>,
    /// Its media type.
    pub content_type: String,
    /// Its decoded size in bytes.
    pub size: usize,
}

/// One attachment, decoded, for download.
#[derive(Debug, Clone)]
pub struct Attachment {
    /// Its file name, if it has one.
    pub name: Option<String>,
    /// Its media type.
    pub content_type: String,
    /// Its decoded bytes.
    pub bytes: Vec<u8>,
}

/// Reads `raw`; a message with no header at all still lists, as empty.
fn parse(raw: &[u8]) -> Option<Message<'_>> {
    MessageParser::default().parse(raw)
}

/// The summary of `stored`, whose bytes are `raw`.
pub fn summary(stored: &StoredMessage, raw: &[u8]) -> Summary {
    let message = parse(raw);
    let message = message.as_ref();
    Summary {
        id: stored.id.clone(),
        received_at: rfc3339_micros(stored.received_micros),
        trace_id: trace_id(raw),
        size: stored.size,
        mailbox: stored.mailbox.clone(),
        from: addresses(message.and_then(Message::from)),
        to: addresses(message.and_then(Message::to)),
        subject: message.and_then(Message::subject).map(str::to_owned),
        date: message.and_then(Message::date).map(|d| d.to_rfc3339()),
        attachment_count: message.map_or(0, Message::attachment_count),
    }
}

/// The detail of `stored`, whose bytes are `raw`.
pub fn detail(stored: &StoredMessage, raw: &[u8]) -> Detail {
    let summary = summary(stored, raw);
    let Some(message) = parse(raw) else {
        return Detail {
            summary,
            cc: Vec::new(),
            headers: Vec::new(),
            text: None,
            html: None,
            attachments: Vec::new(),
        };
    };
    Detail {
        summary,
        cc: addresses(message.cc()),
        headers: message
            .headers_raw()
            .map(|(name, value)| HeaderField {
                name: name.to_owned(),
                value: unfold(value),
            })
            .collect(),
        text: message.body_text(0).map(|t| t.into_owned()),
        html: message.body_html(0).map(|h| h.into_owned()),
        attachments: message
            .attachments()
            .enumerate()
            .map(|(index, part)| AttachmentInfo {
                index,
                name: part.attachment_name().map(str::to_owned),
                content_type: content_type_of(part),
                size: part.contents().len(),
            })
            .collect(),
    }
}

/// Attachment `index` of `raw`, decoded.
pub fn attachment(raw: &[u8], index: usize) -> Option<Attachment> {
    let message = parse(raw)?;
    let part = message.attachments().nth(index)?;
    Some(Attachment {
        name: part.attachment_name().map(str::to_owned),
        content_type: content_type_of(part),
        bytes: part.contents().to_vec(),
    })
}

/// The first `X-Inlet-Trace-Id` of the header section (Inlet writes it
/// before anything the client sent), if it is a trace id.
pub fn trace_id(raw: &[u8]) -> Option<String> {
    let end = memchr::memmem::find(raw, b"\r\n\r\n")
        .or_else(|| memchr::memmem::find(raw, b"\n\n"))
        .unwrap_or(raw.len());
    let headers = String::from_utf8_lossy(&raw[..end]);
    headers.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        if !name.trim().eq_ignore_ascii_case(TRACE_HEADER) {
            return None;
        }
        let value = value.trim();
        (value.len() == 32 && value.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| value.to_ascii_lowercase())
    })
}

fn addresses(address: Option<&Address<'_>>) -> Vec<Mailbox> {
    address.map_or_else(Vec::new, |address| {
        address
            .iter()
            .map(|addr| Mailbox {
                name: addr.name().map(str::to_owned),
                address: addr.address().map(str::to_owned),
            })
            .collect()
    })
}

fn content_type_of<'a>(part: &impl MimeHeaders<'a>) -> String {
    part.content_type().map_or_else(
        || "application/octet-stream".to_owned(),
        |ct| match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
            None => ct.ctype().to_ascii_lowercase(),
        },
    )
}

/// A raw header value on one line: folds joined, ends trimmed.
fn unfold(value: &str) -> String {
    value
        .split(['\r', '\n'])
        .map(str::trim)
        .filter(|piece| !piece.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn rfc3339_micros(micros: u128) -> String {
    let nanos = i128::try_from(micros).unwrap_or(0) * 1000;
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .map(inlet_common::record::rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_trace_header_is_ours_and_a_clients_is_ignored() {
        let raw = b"Return-Path: <a@b>\r\nX-Inlet-Trace-Id: 4bf92f3577b34da6a3ce929d0e0e4736\r\n\
X-Inlet-Trace-Id: 00000000000000000000000000000bad\r\nSubject: hi\r\n\r\nX-Inlet-Trace-Id: nope\r\n";
        assert_eq!(
            trace_id(raw).as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        assert_eq!(trace_id(b"Subject: hi\r\n\r\nbody"), None);
    }
}
