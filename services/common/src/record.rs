//! The id and time every stored thing carries — a form, a file, a mail, an
//! event — so all of them share one id scheme and one time format.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use uuid::Uuid;

/// When something arrived, and the id it is known by from then on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// A UUIDv7: unique, and sorting by it sorts by arrival (to the millisecond).
    pub id: Uuid,
    /// The arrival time, UTC.
    pub received_at: OffsetDateTime,
}

impl Stamp {
    /// A fresh id and the time now.
    pub fn now() -> Self {
        Self {
            id: Uuid::now_v7(),
            received_at: OffsetDateTime::now_utc(),
        }
    }

    /// The arrival time as RFC 3339 in UTC (`2026-11-25T17:12:43.25Z`).
    pub fn received_at_rfc3339(&self) -> String {
        rfc3339(self.received_at)
    }
}

/// `time` as RFC 3339 in UTC, the one time format of everything stored.
pub fn rfc3339(time: OffsetDateTime) -> String {
    time.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .expect("a UTC time always formats as RFC 3339")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_are_v7_and_utc() {
        let stamp = Stamp::now();
        assert_eq!(stamp.id.get_version_num(), 7);
        let text = stamp.received_at_rfc3339();
        assert!(text.ends_with('Z'), "{text}");
        let parsed = OffsetDateTime::parse(&text, &Rfc3339).unwrap();
        assert_eq!(parsed, stamp.received_at);
    }

    #[test]
    fn other_offsets_are_written_in_utc() {
        let time = OffsetDateTime::parse("2026-11-25T19:12:43+02:00", &Rfc3339).unwrap();
        assert_eq!(rfc3339(time), "2026-11-25T17:12:43Z");
    }
}
