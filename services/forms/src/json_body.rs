//! Validating a JSON body without building it in memory.

use std::fmt;

use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Checks that `text` is one JSON value and returns how many top-level items it
/// has: entries of an object, elements of an array, or 1 for a scalar.
pub fn validate(text: &str) -> Result<usize, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let count = (&mut de).deserialize_any(TopLevelCount)?;
    de.end()?;
    Ok(count)
}

/// Keeps JSON on one line: CR and LF can only be whitespace in valid JSON
/// (inside strings they must be escaped), so replacing them changes nothing else.
pub fn single_line(text: &str) -> String {
    text.replace(['\r', '\n'], " ")
}

struct TopLevelCount;

impl<'de> Visitor<'de> for TopLevelCount {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<usize, A::Error> {
        let mut n = 0;
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {
            n += 1;
        }
        Ok(n)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
        let mut n = 0;
        while seq.next_element::<IgnoredAny>()?.is_some() {
            n += 1;
        }
        Ok(n)
    }
    fn visit_bool<E>(self, _: bool) -> Result<usize, E> {
        Ok(1)
    }
    fn visit_i64<E>(self, _: i64) -> Result<usize, E> {
        Ok(1)
    }
    fn visit_u64<E>(self, _: u64) -> Result<usize, E> {
        Ok(1)
    }
    fn visit_f64<E>(self, _: f64) -> Result<usize, E> {
        Ok(1)
    }
    fn visit_str<E>(self, _: &str) -> Result<usize, E> {
        Ok(1)
    }
    fn visit_unit<E>(self) -> Result<usize, E> {
        Ok(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_top_level_items() {
        assert_eq!(validate(r#"{"a":1,"b":{"c":[1,2]}}"#).unwrap(), 2);
        assert_eq!(validate("[1,2,3]").unwrap(), 3);
        assert_eq!(validate(" \"x\" ").unwrap(), 1);
        assert_eq!(validate("null").unwrap(), 1);
    }

    #[test]
    fn rejects_invalid_and_trailing_text() {
        assert!(validate("").is_err());
        assert!(validate("{").is_err());
        assert!(validate("{} {}").is_err());
        assert!(validate("{'a':1}").is_err());
    }

    #[test]
    fn single_line_keeps_meaning() {
        let text = "{\n  \"a\": \"x\\ny\"\r\n}";
        let flat = single_line(text);
        assert!(!flat.contains('\n'));
        let a: serde_json::Value = serde_json::from_str(text).unwrap();
        let b: serde_json::Value = serde_json::from_str(&flat).unwrap();
        assert_eq!(a, b);
    }
}
