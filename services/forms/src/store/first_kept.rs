//! Which segment the journal starts at once retention has dropped older ones.
//!
//! Sequence numbers count from the first record ever stored, so when the
//! oldest segments go, the journal must remember where the rest start:
//! `journal/first` holds `<serial> <first sequence>` of the oldest segment
//! kept. It is written (beside itself, then renamed over) before any
//! segment is removed, so after a crash start-up finishes the removal and
//! every remaining cursor still means the same record.

use std::fs::File;
use std::io::Write;
use std::path::Path;

/// The marker's name in the journal folder.
pub(super) const FILE: &str = "first";

/// The oldest segment kept and the sequence number of its first record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FirstKept {
    pub serial: u64,
    pub first_seq: u64,
}

/// The marker in `dir`, if retention ever wrote one.
pub(super) fn read(dir: &Path) -> std::io::Result<Option<FirstKept>> {
    let text = match std::fs::read_to_string(dir.join(FILE)) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err),
    };
    let mut parts = text.split_whitespace().map(str::parse::<u64>);
    match (parts.next(), parts.next(), parts.next()) {
        (Some(Ok(serial)), Some(Ok(first_seq)), None) => Ok(Some(FirstKept { serial, first_seq })),
        _ => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "{} does not hold `<serial> <sequence>`",
                dir.join(FILE).display()
            ),
        )),
    }
}

/// Makes `kept` the journal's start, durably, before anything is removed.
pub(super) fn write(dir: &Path, kept: FirstKept) -> std::io::Result<()> {
    let temporary = dir.join(format!("{FILE}.new"));
    {
        let mut out = File::create(&temporary)?;
        writeln!(out, "{} {}", kept.serial, kept.first_seq)?;
        out.sync_all()?;
    }
    std::fs::rename(&temporary, dir.join(FILE))?;
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_marker_round_trips_and_a_damaged_one_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path()).unwrap(), None);
        let kept = FirstKept {
            serial: 7,
            first_seq: 1234,
        };
        write(dir.path(), kept).unwrap();
        assert_eq!(read(dir.path()).unwrap(), Some(kept));
        std::fs::write(dir.path().join(FILE), "7\n").unwrap();
        assert!(read(dir.path()).is_err());
    }
}
