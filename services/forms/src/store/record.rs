//! One stored submission, as the journal line it becomes.

use inlet_common::record::Stamp;

/// A submission as stored: its stamp, the trace that stored it, its size,
/// its content type and its fields.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// Its id and arrival time.
    pub stamp: &'a Stamp,
    /// The W3C trace id of the request that stored it (32 hex digits), if any.
    pub trace_id: Option<&'a str>,
    /// The request body's size in bytes.
    pub size: u64,
    /// `application/x-www-form-urlencoded` or `application/json`.
    pub content_type: &'static str,
    /// The address of the client that sent it (through trusted proxies).
    pub client: Option<std::net::IpAddr>,
    /// The fields: valid JSON on one line, written as is (never re-serialised).
    pub fields: &'a str,
}

impl Record<'_> {
    /// The journal line: one JSON object, without the newline.
    pub fn to_line(&self) -> Vec<u8> {
        let received_at = self.stamp.received_at_rfc3339();
        // Every part is fixed text, a UUID, an RFC 3339 time, a known media
        // type or already valid single-line JSON: nothing needs escaping.
        let mut line = Vec::with_capacity(160 + received_at.len() + self.fields.len());
        line.extend_from_slice(br#"{"id":""#);
        let mut id = uuid::Uuid::encode_buffer();
        line.extend_from_slice(self.stamp.id.hyphenated().encode_lower(&mut id).as_bytes());
        line.extend_from_slice(br#"","received_at":""#);
        line.extend_from_slice(received_at.as_bytes());
        line.extend_from_slice(br#"","trace_id":"#);
        match self.trace_id.filter(|id| is_trace_id(id)) {
            Some(trace_id) => {
                line.push(b'"');
                line.extend_from_slice(trace_id.as_bytes());
                line.push(b'"');
            }
            None => line.extend_from_slice(b"null"),
        }
        line.extend_from_slice(br#","size":"#);
        line.extend_from_slice(self.size.to_string().as_bytes());
        line.extend_from_slice(br#","content_type":""#);
        line.extend_from_slice(self.content_type.as_bytes());
        line.extend_from_slice(br#"","client":"#);
        match self.client {
            // An address prints as digits, dots and colons: no escaping.
            Some(client) => {
                line.push(b'"');
                line.extend_from_slice(client.to_string().as_bytes());
                line.push(b'"');
            }
            None => line.extend_from_slice(b"null"),
        }
        line.extend_from_slice(br#","fields":"#);
        line.extend_from_slice(self.fields.as_bytes());
        line.push(b'}');
        line
    }
}

/// Whether `text` is a W3C trace id as OpenTelemetry writes it: nothing in
/// it needs escaping.
fn is_trace_id(text: &str) -> bool {
    text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_is_one_json_object_with_the_fields_as_given() {
        let stamp = Stamp::now();
        let fields = r#"{"big":123456789012345678901234567890,"s":"a\"b"}"#;
        let line = Record {
            stamp: &stamp,
            trace_id: Some("4bf92f3577b34da6a3ce929d0e0e4736"),
            size: 77,
            content_type: "application/json",
            client: None,
            fields,
        }
        .to_line();
        assert!(!line.contains(&b'\n'));
        let value: serde_json::Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(value["id"], stamp.id.to_string());
        assert_eq!(value["received_at"], stamp.received_at_rfc3339());
        assert_eq!(value["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(value["size"], 77);
        assert_eq!(value["content_type"], "application/json");
        let text = String::from_utf8(line).unwrap();
        assert!(
            text.ends_with(&format!(r#""fields":{fields}}}"#)),
            "byte-exact fields: {text}"
        );
    }

    #[test]
    fn without_a_trace_the_line_says_null() {
        let stamp = Stamp::now();
        for trace_id in [None, Some("not\"hex"), Some("")] {
            let line = Record {
                stamp: &stamp,
                trace_id,
                size: 2,
                content_type: "application/json",
                client: None,
                fields: "{}",
            }
            .to_line();
            let value: serde_json::Value = serde_json::from_slice(&line).unwrap();
            assert!(value["trace_id"].is_null(), "{trace_id:?}");
        }
    }
}
