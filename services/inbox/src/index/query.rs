//! The search box's language, Mailpit-style: free words and `"phrases"`,
//! `key:value` operators, and `-` before either to exclude.
//!
//! Operators: `kind:` (submission, file, mail), `from:`, `to:`, `subject:`,
//! `mailbox:`, `name:`, `after:` and `before:` (a date `2026-12-01`, a time
//! in RFC 3339, or an age such as `2h` or `7d`), `has:attachment`,
//! `trace:` (a trace id or its first digits). A word with a colon that
//! names no operator is searched as text.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

use super::item::Kind;

/// Longest query taken, in bytes: a search box, not a document.
pub const MAX_QUERY_BYTES: usize = 1024;

/// A parsed query: every term must hold.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Query {
    /// The terms, in the order typed.
    pub terms: Vec<Term>,
}

/// One condition, or its exclusion.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    /// `-term`: items matching it are left out.
    pub negated: bool,
    /// What it asks.
    pub filter: Filter,
}

/// What a term asks of an item.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// Free text anywhere in the item; a word matches as a prefix, a
    /// phrase exactly.
    Text {
        /// The words.
        text: String,
        /// Quoted: the words in this order, whole.
        phrase: bool,
    },
    /// Text in one field.
    Field {
        /// Which field.
        field: Field,
        /// The words.
        text: String,
    },
    /// Its intake.
    Kind(Kind),
    /// Arrived at or after, Unix ms.
    After(i64),
    /// Arrived before, Unix ms.
    Before(i64),
    /// A mail with attachments.
    HasAttachment,
    /// Its trace id starts with these hex digits.
    Trace(String),
}

/// The fields `from:`, `to:`, `subject:`, `mailbox:`, `name:` look in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `from:`: the sender.
    From,
    /// `to:`: the recipients.
    To,
    /// `subject:`.
    Subject,
    /// `mailbox:`.
    Mailbox,
    /// `name:`: a file's names.
    Name,
}

impl Field {
    /// The index column it searches.
    pub const fn column(self) -> &'static str {
        match self {
            Field::From => "sender",
            Field::To => "recipients",
            Field::Subject => "subject",
            Field::Mailbox => "mailbox",
            Field::Name => "name",
        }
    }
}

/// Why a query could not be understood, in the words the page shows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// Over [`MAX_QUERY_BYTES`].
    #[error("the search is too long: at most {MAX_QUERY_BYTES} bytes")]
    TooLong,
    /// `kind:` with something else.
    #[error("kind:{0} is not a kind: use kind:submission, kind:file or kind:mail")]
    UnknownKind(String),
    /// `after:`/`before:` with something that is not a time.
    #[error("{key}:{value} is not a time: use a date (2026-12-01), an RFC 3339 time, or an age (2h, 7d)")]
    BadTime {
        /// `after` or `before`.
        key: &'static str,
        /// What was given.
        value: String,
    },
    /// `has:` with something else.
    #[error("has:{0} is not known: use has:attachment")]
    UnknownHas(String),
    /// `trace:` with something that is not hex.
    #[error("trace:{0} is not a trace id: use its hex digits")]
    BadTrace(String),
    /// An operator with nothing after it.
    #[error("{0}: needs a value after the colon")]
    Empty(String),
}

impl Query {
    /// Parses `input` as typed in the box; `now` is when ages count from.
    pub fn parse(input: &str, now: OffsetDateTime) -> Result<Query, QueryError> {
        if input.len() > MAX_QUERY_BYTES {
            return Err(QueryError::TooLong);
        }
        let mut terms = Vec::new();
        for token in tokens(input) {
            if let Some(filter) = filter_of(&token, now)? {
                terms.push(Term {
                    negated: token.negated,
                    filter,
                });
            }
        }
        Ok(Query { terms })
    }

    /// Whether nothing is asked (the whole list).
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The one kind this query keeps to, if a `kind:` term says so.
    pub fn only_kind(&self) -> Option<Kind> {
        self.terms
            .iter()
            .find_map(|t| match (&t.filter, t.negated) {
                (Filter::Kind(kind), false) => Some(*kind),
                _ => None,
            })
    }
}

/// One whitespace-separated piece of the input.
#[derive(Debug, PartialEq)]
struct Token {
    negated: bool,
    key: Option<String>,
    value: String,
    quoted: bool,
}

fn tokens(input: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = input.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&first) = chars.peek() else { break };
        let negated = first == '-';
        if negated {
            chars.next();
        }
        let mut key = None;
        let mut word = String::new();
        let mut quoted = false;
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                break;
            }
            chars.next();
            if c == '"' {
                quoted = true;
                for c in chars.by_ref() {
                    if c == '"' {
                        break;
                    }
                    word.push(c);
                }
                continue;
            }
            if c == ':' && key.is_none() && !quoted && is_operator(&word) {
                key = Some(std::mem::take(&mut word).to_ascii_lowercase());
                continue;
            }
            word.push(c);
        }
        if key.is_none() && word.is_empty() && !quoted {
            // A lone `-`: nothing to exclude.
            continue;
        }
        out.push(Token {
            negated,
            key,
            value: word,
            quoted,
        });
    }
    out
}

fn is_operator(word: &str) -> bool {
    matches!(
        word.to_ascii_lowercase().as_str(),
        "kind"
            | "from"
            | "to"
            | "subject"
            | "mailbox"
            | "name"
            | "after"
            | "before"
            | "has"
            | "trace"
    )
}

fn filter_of(token: &Token, now: OffsetDateTime) -> Result<Option<Filter>, QueryError> {
    let value = token.value.trim();
    let Some(key) = token.key.as_deref() else {
        if !has_words(value) {
            return Ok(None);
        }
        return Ok(Some(Filter::Text {
            text: value.to_owned(),
            phrase: token.quoted,
        }));
    };
    if value.is_empty() {
        return Err(QueryError::Empty(key.to_owned()));
    }
    let field = |field| {
        Ok(has_words(value).then(|| Filter::Field {
            field,
            text: value.to_owned(),
        }))
    };
    match key {
        "kind" => Kind::parse(value)
            .map(|kind| Some(Filter::Kind(kind)))
            .ok_or_else(|| QueryError::UnknownKind(value.to_owned())),
        "from" => field(Field::From),
        "to" => field(Field::To),
        "subject" => field(Field::Subject),
        "mailbox" => field(Field::Mailbox),
        "name" => field(Field::Name),
        "after" => Ok(Some(Filter::After(time_of("after", value, now)?))),
        "before" => Ok(Some(Filter::Before(time_of("before", value, now)?))),
        "has"
            if value.eq_ignore_ascii_case("attachment")
                || value.eq_ignore_ascii_case("attachments") =>
        {
            Ok(Some(Filter::HasAttachment))
        }
        "has" => Err(QueryError::UnknownHas(value.to_owned())),
        "trace" if value.len() <= 32 && value.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(Some(Filter::Trace(value.to_ascii_lowercase())))
        }
        "trace" => Err(QueryError::BadTrace(value.to_owned())),
        _ => unreachable!("is_operator lists every key"),
    }
}

/// Whether `text` holds anything the index splits into words.
fn has_words(text: &str) -> bool {
    text.chars().any(char::is_alphanumeric)
}

/// `value` as Unix ms: a date (its midnight, UTC), an RFC 3339 time, or an
/// age before `now`.
fn time_of(key: &'static str, value: &str, now: OffsetDateTime) -> Result<i64, QueryError> {
    let bad = || QueryError::BadTime {
        key,
        value: value.to_owned(),
    };
    let at = if let Ok(date) = Date::parse(value, format_description!("[year]-[month]-[day]")) {
        date.midnight().assume_utc()
    } else if let Ok(time) = OffsetDateTime::parse(value, &Rfc3339) {
        time
    } else {
        let age = humantime::parse_duration(value).map_err(|_| bad())?;
        let age = time::Duration::try_from(age).map_err(|_| bad())?;
        now.checked_sub(age).ok_or_else(bad)?
    };
    Ok((at.unix_timestamp_nanos() / 1_000_000) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-12-06 12:00 UTC);

    fn parse(input: &str) -> Vec<Term> {
        Query::parse(input, NOW).unwrap().terms
    }

    fn term(filter: Filter) -> Term {
        Term {
            negated: false,
            filter,
        }
    }

    fn text(text: &str, phrase: bool) -> Filter {
        Filter::Text {
            text: text.into(),
            phrase,
        }
    }

    #[test]
    fn words_phrases_and_exclusions() {
        assert_eq!(
            parse(r#"hello "big world" -spam"#),
            vec![
                term(text("hello", false)),
                term(text("big world", true)),
                Term {
                    negated: true,
                    filter: text("spam", false)
                },
            ]
        );
        assert!(parse("  - -- ").is_empty());
        assert!(parse("").is_empty());
    }

    #[test]
    fn every_operator() {
        let terms = parse(
            r#"kind:mail from:alice@example.com to:bob subject:"quarterly report" mailbox:sales name:notes.txt has:attachment trace:4BF9 -kind:file"#,
        );
        assert_eq!(
            terms,
            vec![
                term(Filter::Kind(Kind::Mail)),
                term(Filter::Field {
                    field: Field::From,
                    text: "alice@example.com".into()
                }),
                term(Filter::Field {
                    field: Field::To,
                    text: "bob".into()
                }),
                term(Filter::Field {
                    field: Field::Subject,
                    text: "quarterly report".into()
                }),
                term(Filter::Field {
                    field: Field::Mailbox,
                    text: "sales".into()
                }),
                term(Filter::Field {
                    field: Field::Name,
                    text: "notes.txt".into()
                }),
                term(Filter::HasAttachment),
                term(Filter::Trace("4bf9".into())),
                Term {
                    negated: true,
                    filter: Filter::Kind(Kind::File)
                },
            ]
        );
    }

    #[test]
    fn times_are_dates_rfc3339_or_ages() {
        let day = datetime!(2026-12-01 00:00 UTC).unix_timestamp() * 1000;
        assert_eq!(parse("after:2026-12-01"), vec![term(Filter::After(day))]);
        let exact = datetime!(2026-12-01 10:30 UTC).unix_timestamp() * 1000;
        assert_eq!(
            parse("before:2026-12-01T12:30:00+02:00"),
            vec![term(Filter::Before(exact))]
        );
        let two_hours_ago = (NOW.unix_timestamp() - 7200) * 1000;
        assert_eq!(parse("after:2h"), vec![term(Filter::After(two_hours_ago))]);
    }

    #[test]
    fn an_unknown_key_is_text_and_bad_values_say_what_is_wrong() {
        assert_eq!(parse("http://x"), vec![term(text("http://x", false))]);
        let err = |input| Query::parse(input, NOW).unwrap_err().to_string();
        assert!(err("kind:fax").contains("kind:fax is not a kind"));
        assert!(err("after:yesterdayish").contains("is not a time"));
        assert!(err("has:wings").contains("has:attachment"));
        assert!(err("trace:xyz").contains("not a trace id"));
        assert!(err("from:").contains("needs a value"));
        assert_eq!(
            Query::parse(&"a".repeat(MAX_QUERY_BYTES + 1), NOW),
            Err(QueryError::TooLong)
        );
    }

    #[test]
    fn an_unclosed_quote_runs_to_the_end() {
        assert_eq!(
            parse(r#""open phrase"#),
            vec![term(text("open phrase", true))]
        );
    }
}
