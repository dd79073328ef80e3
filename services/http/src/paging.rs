//! One way to page through a list, for every list endpoint: the query
//! (`?limit=N&cursor=C`), its rules and errors, and the page envelope
//! (`{"<items>": […], "next_cursor": "…" | null}`).
//!
//! Rules: at most [`MAX_QUERY_PAIRS`] pairs; `limit` and `cursor` at most
//! once each; `limit` a whole number from 1 to the endpoint's maximum (its
//! default when absent); `cursor` exactly a value an earlier page gave as
//! `next_cursor`. Other keys are ignored, so a client may add its own.

use std::str::FromStr;

use bytes::Bytes;
use inlet_common::code::Code;
use percent_encoding::percent_decode;
use serde::Serialize;

use crate::errors::PublicError;

/// Most `key=value` pairs a list query may have; it needs two.
pub const MAX_QUERY_PAIRS: usize = 8;

/// An endpoint's page sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSizes {
    /// Items on a page when the query names no `limit`.
    pub default_limit: usize,
    /// Largest `limit` a query may ask for.
    pub max_limit: usize,
}

/// A checked list query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageQuery<C> {
    /// Most items on the page.
    pub limit: usize,
    /// Where the page starts: `None` for the newest.
    pub cursor: Option<C>,
}

/// Why a list query was refused (400 `bad_query`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PagingError {
    /// More pairs than [`MAX_QUERY_PAIRS`].
    #[error("the query cannot be read: more than {MAX_QUERY_PAIRS} parameters")]
    TooManyPairs,
    /// A key or value that is not UTF-8 once decoded.
    #[error("the query cannot be read: it is not valid UTF-8")]
    NotUtf8,
    /// `limit` or `cursor` twice.
    #[error("{0} is given more than once")]
    Repeated(&'static str),
    /// `limit` outside 1 to the maximum, or not a number.
    #[error("limit must be a whole number from 1 to {max}")]
    BadLimit {
        /// The endpoint's largest `limit`.
        max: usize,
    },
    /// A `cursor` no page gave.
    #[error("cursor must be a value from next_cursor")]
    BadCursor,
}

impl PublicError for PagingError {
    fn code(&self) -> Code {
        Code::BadQuery
    }
}

impl<C: FromStr> PageQuery<C> {
    /// Reads `query` (the raw query string) by the rules above.
    pub fn parse(query: &str, sizes: PageSizes) -> Result<Self, PagingError> {
        let max = sizes.max_limit.max(1);
        let mut limit = None;
        let mut cursor = None;
        let pairs = query.split('&').filter(|pair| !pair.is_empty());
        for (count, pair) in pairs.enumerate() {
            if count >= MAX_QUERY_PAIRS {
                return Err(PagingError::TooManyPairs);
            }
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match decode(key)?.as_str() {
                "limit" => {
                    if limit.is_some() {
                        return Err(PagingError::Repeated("limit"));
                    }
                    let n = decode(value)?
                        .parse::<usize>()
                        .ok()
                        .filter(|n| (1..=max).contains(n))
                        .ok_or(PagingError::BadLimit { max })?;
                    limit = Some(n);
                }
                "cursor" => {
                    if cursor.is_some() {
                        return Err(PagingError::Repeated("cursor"));
                    }
                    let c = decode(value)?
                        .parse::<C>()
                        .map_err(|_| PagingError::BadCursor)?;
                    cursor = Some(c);
                }
                // Not ours, but it must still be readable.
                _ => {
                    decode(value)?;
                }
            }
        }
        Ok(Self {
            limit: limit.unwrap_or(sizes.default_limit.clamp(1, max)),
            cursor,
        })
    }
}

/// Percent-decodes one query component, `+` meaning a space.
fn decode(raw: &str) -> Result<String, PagingError> {
    let spaced = raw.replace('+', " ");
    percent_decode(spaced.as_bytes())
        .decode_utf8()
        .map(|text| text.into_owned())
        .map_err(|_| PagingError::NotUtf8)
}

/// The page envelope, `{"<items>": […], "next_cursor": "…" | null}`, in
/// pieces, so a page can be streamed item by item.
#[derive(Debug, Clone, Copy)]
pub struct Envelope {
    /// The name of the item list (`submissions`, `files`, …).
    pub items: &'static str,
}

impl Envelope {
    /// What comes before the first item: `{"<items>":[`.
    pub fn open(&self) -> Bytes {
        Bytes::from(format!("{{\"{}\":[", self.items))
    }

    /// What goes between two items.
    pub const SEPARATOR: &'static [u8] = b",";

    /// What comes after the last item: `],"next_cursor":…}`.
    pub fn close(next_cursor: Option<&str>) -> Bytes {
        let next = serde_json::to_string(&next_cursor).unwrap_or_else(|_| "null".into());
        Bytes::from(format!("],\"next_cursor\":{next}}}"))
    }

    /// A whole page of `items` as JSON.
    pub fn whole<T: Serialize>(
        &self,
        items: &[T],
        next_cursor: Option<&str>,
    ) -> Result<Vec<u8>, serde_json::Error> {
        let mut page = self.open().to_vec();
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                page.extend_from_slice(Self::SEPARATOR);
            }
            serde_json::to_writer(&mut page, item)?;
        }
        page.extend_from_slice(&Self::close(next_cursor));
        Ok(page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIZES: PageSizes = PageSizes {
        default_limit: 50,
        max_limit: 100,
    };

    fn parse(query: &str) -> Result<PageQuery<u64>, PagingError> {
        PageQuery::parse(query, SIZES)
    }

    #[test]
    fn no_query_is_the_newest_page_of_the_default_size() {
        assert_eq!(
            parse(""),
            Ok(PageQuery {
                limit: 50,
                cursor: None
            })
        );
    }

    #[test]
    fn limit_and_cursor_are_read_and_other_keys_ignored() {
        assert_eq!(
            parse("limit=7&cursor=42&mine=x"),
            Ok(PageQuery {
                limit: 7,
                cursor: Some(42)
            })
        );
        assert_eq!(parse("limit=%31%30").map(|q| q.limit), Ok(10));
    }

    #[test]
    fn limit_must_be_from_one_to_the_maximum() {
        for bad in [
            "limit=0",
            "limit=101",
            "limit=-1",
            "limit=ten",
            "limit=",
            "limit",
        ] {
            assert_eq!(parse(bad), Err(PagingError::BadLimit { max: 100 }), "{bad}");
        }
        assert_eq!(parse("limit=100").map(|q| q.limit), Ok(100));
    }

    #[test]
    fn a_cursor_must_be_one_a_page_gave() {
        assert_eq!(parse("cursor=abc"), Err(PagingError::BadCursor));
        assert_eq!(parse("cursor="), Err(PagingError::BadCursor));
    }

    #[test]
    fn a_key_given_twice_is_refused() {
        assert_eq!(
            parse("limit=1&limit=2"),
            Err(PagingError::Repeated("limit"))
        );
        assert_eq!(
            parse("cursor=1&li%6Dit=2&cursor=1"),
            Err(PagingError::Repeated("cursor"))
        );
    }

    #[test]
    fn too_many_pairs_or_bytes_that_are_not_utf8_cannot_be_read() {
        let many = ["x=1"; MAX_QUERY_PAIRS + 1].join("&");
        assert_eq!(parse(&many), Err(PagingError::TooManyPairs));
        assert_eq!(parse("limit=%FF"), Err(PagingError::NotUtf8));
        assert_eq!(parse("mine=%FF"), Err(PagingError::NotUtf8));
        // Empty pairs (`&&`) are not pairs.
        assert!(parse(&"&".repeat(100)).is_ok());
    }

    #[test]
    fn a_default_over_the_maximum_is_held_to_it() {
        let sizes = PageSizes {
            default_limit: 500,
            max_limit: 100,
        };
        assert_eq!(PageQuery::<u64>::parse("", sizes).map(|q| q.limit), Ok(100));
    }

    #[test]
    fn every_error_is_a_bad_query() {
        assert_eq!(PagingError::BadCursor.code(), Code::BadQuery);
        assert_eq!(
            PagingError::BadLimit { max: 100 }.to_string(),
            "limit must be a whole number from 1 to 100"
        );
    }

    #[test]
    fn the_envelope_is_the_items_and_the_next_cursor() {
        let envelope = Envelope { items: "files" };
        let page = envelope.whole(&[1, 2], Some("c\"1")).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&page).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"files": [1, 2], "next_cursor": "c\"1"})
        );
        let last = envelope.whole::<u8>(&[], None).unwrap();
        assert_eq!(last, br#"{"files":[],"next_cursor":null}"#);
    }
}
