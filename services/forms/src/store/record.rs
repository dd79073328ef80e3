//! One stored submission, as the journal line it becomes.

use inlet_common::record::Stamp;

/// A submission as stored: its stamp, its content type and its fields.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// Its id and arrival time.
    pub stamp: &'a Stamp,
    /// `application/x-www-form-urlencoded` or `application/json`.
    pub content_type: &'static str,
    /// The fields: valid JSON on one line, written as is (never re-serialised).
    pub fields: &'a str,
}

impl Record<'_> {
    /// The journal line: one JSON object, without the newline.
    pub fn to_line(&self) -> Vec<u8> {
        let received_at = self.stamp.received_at_rfc3339();
        // Every part is fixed text, a UUID, an RFC 3339 time, a known media
        // type or already valid single-line JSON: nothing needs escaping.
        let mut line = Vec::with_capacity(96 + received_at.len() + self.fields.len());
        line.extend_from_slice(br#"{"id":""#);
        let mut id = uuid::Uuid::encode_buffer();
        line.extend_from_slice(self.stamp.id.hyphenated().encode_lower(&mut id).as_bytes());
        line.extend_from_slice(br#"","received_at":""#);
        line.extend_from_slice(received_at.as_bytes());
        line.extend_from_slice(br#"","content_type":""#);
        line.extend_from_slice(self.content_type.as_bytes());
        line.extend_from_slice(br#"","fields":"#);
        line.extend_from_slice(self.fields.as_bytes());
        line.push(b'}');
        line
    }
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
            content_type: "application/json",
            fields,
        }
        .to_line();
        assert!(!line.contains(&b'\n'));
        let value: serde_json::Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(value["id"], stamp.id.to_string());
        assert_eq!(value["received_at"], stamp.received_at_rfc3339());
        assert_eq!(value["content_type"], "application/json");
        let text = String::from_utf8(line).unwrap();
        assert!(
            text.ends_with(&format!(r#""fields":{fields}}}"#)),
            "byte-exact fields: {text}"
        );
    }
}
