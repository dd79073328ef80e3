//! Validating a JSON body without building it in memory.
//!
//! One rule everywhere in the document (RFC 8259 with I-JSON's limits): every
//! string, key or value, must decode to Unicode (no lone surrogate escape),
//! every number must fit an IEEE double (`1e999999` does not), and arrays and
//! objects may nest at most `limits.max_json_depth` deep. Nothing is kept:
//! strings are checked as they are read and numbers parsed and dropped.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// The deepest nesting serde_json itself will walk; a configured depth must
/// not be above it.
pub const MAX_SUPPORTED_DEPTH: usize = 127;

/// Checks that `text` is one JSON value under the rule above, nested at most
/// `max_depth` containers deep, and returns how many top-level items it has:
/// entries of an object, elements of an array, or 1 for a scalar.
pub fn validate(text: &str, max_depth: usize) -> Result<usize, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let count = Walk {
        depth: 0,
        max_depth,
    }
    .deserialize(&mut de)?;
    de.end()?;
    Ok(count)
}

/// Keeps JSON on one line: CR and LF can only be whitespace in valid JSON
/// (inside strings they must be escaped), so replacing them changes nothing else.
pub fn single_line(text: &str) -> String {
    text.replace(['\r', '\n'], " ")
}

/// Walks one value at `depth` containers deep; gives its item count.
#[derive(Clone, Copy)]
struct Walk {
    depth: usize,
    max_depth: usize,
}

impl Walk {
    /// The walk one container further in, or an error past the cap.
    fn inside<E: de::Error>(self) -> Result<Walk, E> {
        if self.depth >= self.max_depth {
            return Err(E::custom(format_args!(
                "nested deeper than {} levels",
                self.max_depth
            )));
        }
        Ok(Walk {
            depth: self.depth + 1,
            ..self
        })
    }
}

impl<'de> DeserializeSeed<'de> for Walk {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<usize, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<usize, A::Error> {
        let inner = self.inside()?;
        let mut n = 0;
        while map.next_key_seed(Key)?.is_some() {
            map.next_value_seed(inner)?;
            n += 1;
        }
        Ok(n)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
        let inner = self.inside()?;
        let mut n = 0;
        while seq.next_element_seed(inner)?.is_some() {
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
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<usize, E> {
        if v.is_finite() {
            Ok(1)
        } else {
            Err(E::custom("number out of range"))
        }
    }
    fn visit_str<E>(self, _: &str) -> Result<usize, E> {
        Ok(1)
    }
    fn visit_unit<E>(self) -> Result<usize, E> {
        Ok(1)
    }
}

/// An object key: decoded (so checked) like any other string.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string key")
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEPTH: usize = 64;

    fn check(text: &str) -> Result<usize, String> {
        validate(text, DEPTH).map_err(|e| e.to_string())
    }

    #[test]
    fn counts_top_level_items() {
        assert_eq!(check(r#"{"a":1,"b":{"c":[1,2]}}"#).unwrap(), 2);
        assert_eq!(check("[1,2,3]").unwrap(), 3);
        assert_eq!(check(" \"x\" ").unwrap(), 1);
        assert_eq!(check("null").unwrap(), 1);
    }

    #[test]
    fn rejects_invalid_and_trailing_text() {
        assert!(check("").is_err());
        assert!(check("{").is_err());
        assert!(check("{} {}").is_err());
        assert!(check("{'a':1}").is_err());
    }

    #[test]
    fn nesting_is_capped_at_the_configured_depth() {
        let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(check(&nested(DEPTH)).is_ok());
        let err = check(&nested(DEPTH + 1)).unwrap_err();
        assert!(err.contains("nested deeper than 64 levels"), "{err}");
        let objects = |n: usize| format!("{}1{}", r#"{"a":"#.repeat(n), "}".repeat(n));
        assert!(check(&objects(DEPTH)).is_ok());
        assert!(check(&objects(DEPTH + 1)).is_err());
        // The deepest cap that can be configured is walked in full.
        let deepest = MAX_SUPPORTED_DEPTH;
        assert!(validate(&nested(deepest), deepest).is_ok());
        assert!(validate(&objects(deepest), deepest).is_ok());
        // Ten thousand deep is refused, not walked.
        assert!(check(&"[".repeat(10_000)).is_err());
    }

    #[test]
    fn numbers_follow_one_rule_at_the_top_and_inside() {
        for text in ["1e999999", "[1e999999]", r#"{"a":{"b":[-1e400]}}"#] {
            let err = check(text).unwrap_err();
            assert!(err.contains("number out of range"), "{text}: {err}");
        }
        for text in ["1e300", "[12345678901234567890123]", r#"{"a":-0.5e-300}"#] {
            assert!(check(text).is_ok(), "{text}");
        }
    }

    #[test]
    fn strings_follow_one_rule_as_keys_and_as_values() {
        for text in [
            r#""\ud800""#,
            r#"["\ud800"]"#,
            r#"{"\ud800":1}"#,
            r#"{"a":"\udc00x"}"#,
        ] {
            let err = check(text).unwrap_err();
            // serde_json names it "lone leading surrogate" or, for one at
            // the end of a string, "unexpected end of hex escape".
            assert!(
                err.contains("surrogate") || err.contains("escape"),
                "{text}: {err}"
            );
        }
        assert!(
            check(r#"{"\ud83e\udd80":"\ud83e\udd80"}"#).is_ok(),
            "a pair is one character"
        );
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
