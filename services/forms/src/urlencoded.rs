//! Strict `application/x-www-form-urlencoded` decoding into a JSON object.
//!
//! Like Node's `querystring.parse`: keys keep their first-seen order, a key seen
//! twice becomes an array, a key without `=` gets `""`. Unlike lossy decoders,
//! bytes that do not decode to UTF-8 are an error rather than replaced.

use percent_encoding::percent_decode;
use serde_json::{Map, Value};

/// Why a urlencoded body was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum UrlencodedError {
    /// A name or value does not decode to UTF-8.
    #[error("a field is not valid UTF-8")]
    InvalidUtf8,
    /// More fields than allowed.
    #[error("more than {0} fields")]
    TooManyFields(usize),
}

/// Decodes `body` into an object, refusing more than `max_fields` pairs.
pub fn parse(body: &[u8], max_fields: usize) -> Result<Map<String, Value>, UrlencodedError> {
    let mut fields = Map::new();
    let mut count = 0;
    for pair in body.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        count += 1;
        if count > max_fields {
            return Err(UrlencodedError::TooManyFields(max_fields));
        }
        let (name, value) = match pair.iter().position(|b| *b == b'=') {
            Some(at) => (&pair[..at], &pair[at + 1..]),
            None => (pair, &[][..]),
        };
        let name = decode(name)?;
        let value = Value::String(decode(value)?);
        match fields.get_mut(&name) {
            None => {
                fields.insert(name, value);
            }
            Some(Value::Array(values)) => values.push(value),
            Some(first) => {
                let first = first.take();
                fields.insert(name, Value::Array(vec![first, value]));
            }
        }
    }
    Ok(fields)
}

/// Percent-decodes one component, with `+` meaning a space.
fn decode(raw: &[u8]) -> Result<String, UrlencodedError> {
    let spaced: Vec<u8> = raw
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    percent_decode(&spaced)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| UrlencodedError::InvalidUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parsed(body: &str) -> Value {
        Value::Object(parse(body.as_bytes(), 100).unwrap())
    }

    #[test]
    fn pairs_decode_in_order() {
        assert_eq!(
            parsed("userinput1=hello+world&userinput2=caf%C3%A9"),
            json!({"userinput1": "hello world", "userinput2": "café"})
        );
        let keys: Vec<_> = parse(b"z=1&a=2", 10).unwrap().keys().cloned().collect();
        assert_eq!(keys, ["z", "a"]);
    }

    #[test]
    fn repeated_keys_become_arrays() {
        assert_eq!(parsed("a=1&a=2"), json!({"a": ["1", "2"]}));
        assert_eq!(
            parsed("a=1&b=x&a=2&a=3"),
            json!({"a": ["1", "2", "3"], "b": "x"})
        );
    }

    #[test]
    fn bare_keys_and_empty_pairs() {
        assert_eq!(parsed("flag&&x="), json!({"flag": "", "x": ""}));
        assert_eq!(parsed(""), json!({}));
        assert_eq!(parsed("a=b=c"), json!({"a": "b=c"}));
    }

    #[test]
    fn invalid_utf8_is_refused() {
        assert_eq!(parse(b"a=%FF", 10), Err(UrlencodedError::InvalidUtf8));
        assert_eq!(parse(b"a=\xff", 10), Err(UrlencodedError::InvalidUtf8));
    }

    #[test]
    fn field_cap_is_enforced() {
        assert!(parse(b"a=1&b=2", 2).is_ok());
        assert_eq!(
            parse(b"a=1&b=2&c=3", 2),
            Err(UrlencodedError::TooManyFields(2))
        );
    }

    /// Found by the fuzz target (tests/fuzz, forms_urlencoded): serde_json's
    /// own magic key is an ordinary field name here, and the line the
    /// journal gets for it is valid JSON.
    #[test]
    fn serde_jsons_magic_key_is_stored_as_plain_json() {
        let body = b"$serde_json::private::RawValue&a=2&1k=2&&=c2&2k=\0";
        let fields = parse(body, 100).unwrap();
        assert_eq!(fields["$serde_json::private::RawValue"], "");
        let line = Value::Object(fields).to_string();
        assert!(
            serde_json::from_str::<serde::de::IgnoredAny>(&line).is_ok(),
            "{line}"
        );
        assert!(
            line.starts_with(r#"{"$serde_json::private::RawValue":"""#),
            "{line}"
        );
    }
}
