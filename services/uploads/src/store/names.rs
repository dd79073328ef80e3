//! Stored names: the seed's `<field>-<time>-<name>`, made safe.
//!
//! A client's file name is reduced to a plain file name: only what follows
//! its last `/` or `\`, without NUL, control or bidirectional-override
//! characters (which can disguise an extension), without leading dots (no
//! `.`, `..` or hidden file), and cut to a bounded length at a character
//! boundary. Other Unicode is kept.

/// Most bytes kept of a client's file name.
pub const MAX_NAME_BYTES: usize = 120;

/// Most bytes kept of a form field name.
pub const MAX_FIELD_BYTES: usize = 40;

/// `raw` as a plain file name of at most `max` bytes; `fallback` when nothing
/// usable is left.
pub fn plain_name(raw: &str, max: usize, fallback: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let kept: String = last.chars().filter(|c| !unsafe_char(*c)).collect();
    let trimmed = kept.trim().trim_start_matches('.');
    let mut end = trimmed.len().min(max);
    while !trimmed.is_char_boundary(end) {
        end -= 1;
    }
    let name = trimmed[..end].trim_end();
    if name.is_empty() {
        fallback.to_owned()
    } else {
        name.to_owned()
    }
}

/// `text` without control characters, for a client's name echoed in an
/// answer line: it cannot forge or break lines.
pub fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).collect()
}

/// Characters no stored name may hold.
fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            // Bidirectional embeddings, overrides, isolates and marks.
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
        )
}

/// The seed's `<field>-<millis>-<name>`, each part made plain.
pub fn stored_name(field: &str, millis: u128, name: &str) -> String {
    format!(
        "{}-{millis}-{}",
        plain_name(field, MAX_FIELD_BYTES, "field"),
        plain_name(name, MAX_NAME_BYTES, "file")
    )
}

/// How many `-2`, `-3`, … suffixes are tried when a name is taken.
pub(super) const MAX_NAME_ATTEMPTS: u32 = 1000;

/// `name` for the first attempt; `stem-N.ext` after that.
pub(super) fn numbered(name: &str, attempt: u32) -> String {
    if attempt == 1 {
        return name.to_owned();
    }
    match name.rfind('.').filter(|at| *at > 0) {
        Some(at) => format!("{}-{attempt}{}", &name[..at], &name[at..]),
        None => format!("{name}-{attempt}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_become_plain_names() {
        let cases = [
            ("../../etc/passwd", "passwd"),
            ("..\\..\\x", "x"),
            ("a/b", "b"),
            ("/abs", "abs"),
            ("C:\\Users\\me\\photo.jpg", "photo.jpg"),
            ("nul\0byte", "nulbyte"),
            ("line\r\nbreak", "linebreak"),
            (".", "file"),
            ("..", "file"),
            ("", "file"),
            ("   ", "file"),
            ("/", "file"),
            (".hidden", "hidden"),
            ("invoice\u{202E}fdp.exe", "invoicefdp.exe"),
            ("ملف.txt", "ملف.txt"),
            ("😀 party.png", "😀 party.png"),
        ];
        for (raw, plain) in cases {
            assert_eq!(plain_name(raw, MAX_NAME_BYTES, "file"), plain, "{raw:?}");
        }
    }

    #[test]
    fn long_names_are_cut_at_a_character_boundary() {
        let long = "é".repeat(1000);
        let name = plain_name(&long, MAX_NAME_BYTES, "file");
        assert!(name.len() <= MAX_NAME_BYTES);
        assert!(name.chars().all(|c| c == 'é'));
        assert_eq!(name.len(), MAX_NAME_BYTES);
    }

    #[test]
    fn stored_names_follow_the_seed() {
        assert_eq!(
            stored_name("userfile1", 1700000000123, "a b.txt"),
            "userfile1-1700000000123-a b.txt"
        );
        assert_eq!(stored_name("../f", 1, "../../x"), "f-1-x");
        assert_eq!(stored_name("", 1, ""), "field-1-file");
    }

    #[test]
    fn no_stored_name_is_a_path() {
        for raw in [
            "../../etc/passwd",
            "a/b/c",
            "\\\\server\\share",
            "..",
            "x/..",
            "x/.",
        ] {
            let name = stored_name(raw, 7, raw);
            assert!(!name.contains('/') && !name.contains('\\'), "{name}");
            assert!(!name.starts_with('.'), "{name}");
            assert_ne!(name, "..");
        }
    }
}
