use time::macros::datetime;

use super::item::{Item, Kind};
use super::query::Query;
use super::search::Window;
use super::*;

const DAY_MS: i64 = 86_400_000;
const DEC_1: i64 = 1_796_083_200_000; // 2026-12-01T00:00:00Z

fn item(kind: Kind, id: &str, at: i64) -> Item {
    Item {
        kind,
        id: id.into(),
        received_at_ms: at,
        trace_id: None,
        size: 10,
        from: String::new(),
        to: String::new(),
        subject: String::new(),
        mailbox: String::new(),
        name: String::new(),
        summary: format!("{} {id}", kind.name()),
        text: String::new(),
        has_attachment: false,
        document: "{}".into(),
    }
}

fn sample() -> Vec<Item> {
    vec![
        Item {
            text: "userinput1 hello world".into(),
            trace_id: Some("4bf92f3577b34da6a3ce929d0e0e4736".into()),
            ..item(Kind::Submission, "s1", DEC_1 - DAY_MS)
        },
        Item {
            name: "notes.txt userfile1-1-notes.txt".into(),
            text: "text/plain".into(),
            ..item(Kind::File, "f1", DEC_1)
        },
        Item {
            from: "alice@example.com".into(),
            to: "bob@example.com".into(),
            subject: "Quarterly report".into(),
            mailbox: "bob".into(),
            has_attachment: true,
            ..item(Kind::Mail, "m1", DEC_1 + DAY_MS)
        },
        Item {
            from: "carol@example.org".into(),
            to: "bob@example.com".into(),
            subject: "Hello again".into(),
            mailbox: "bob".into(),
            ..item(Kind::Mail, "m2", DEC_1 + 2 * DAY_MS)
        },
    ]
}

fn open() -> (tempfile::TempDir, Index) {
    let dir = tempfile::tempdir().unwrap();
    let index = Index::open(&dir.path().join("index.sqlite3")).unwrap();
    (dir, index)
}

fn ids(index: &Index, input: &str) -> Vec<String> {
    let query = Query::parse(input, datetime!(2026-12-06 12:00 UTC)).unwrap();
    index
        .search(
            &query,
            Window::Older {
                before: None,
                limit: 50,
            },
        )
        .unwrap()
        .into_iter()
        .map(|row| row.id)
        .collect()
}

#[test]
fn every_operator_narrows_the_list() {
    let (_dir, index) = open();
    assert!(index.is_fresh());
    assert_eq!(index.upsert(&sample(), 1).unwrap(), 4);
    assert_eq!(ids(&index, ""), ["m2", "m1", "f1", "s1"], "newest first");
    assert_eq!(ids(&index, "hello"), ["m2", "s1"], "free text anywhere");
    assert_eq!(ids(&index, "hel"), ["m2", "s1"], "a word is a prefix");
    assert_eq!(ids(&index, r#""hello world""#), ["s1"], "a phrase is whole");
    assert_eq!(ids(&index, "-hello"), ["m1", "f1"]);
    assert_eq!(ids(&index, "kind:mail"), ["m2", "m1"]);
    assert_eq!(ids(&index, "-kind:mail"), ["f1", "s1"]);
    assert_eq!(ids(&index, "from:alice@example.com"), ["m1"]);
    assert_eq!(ids(&index, "to:bob"), ["m2", "m1"]);
    assert_eq!(ids(&index, r#"subject:"quarterly report""#), ["m1"]);
    assert_eq!(ids(&index, "mailbox:bob -from:carol"), ["m1"]);
    assert_eq!(ids(&index, "name:notes.txt"), ["f1"]);
    assert_eq!(ids(&index, "has:attachment"), ["m1"]);
    assert_eq!(ids(&index, "trace:4bf92f"), ["s1"]);
    assert_eq!(ids(&index, "after:2026-12-02"), ["m2", "m1"]);
    assert_eq!(ids(&index, "before:2026-12-01"), ["s1"]);
    assert_eq!(
        ids(&index, "kind:mail from:carol after:2026-12-02"),
        ["m2"],
        "combined"
    );
    assert!(ids(&index, "nothing-like-this").is_empty());
}

#[test]
fn pages_walk_back_and_live_rows_come_forward() {
    let (_dir, index) = open();
    // Many of one millisecond: each gets its own place, in order.
    let items: Vec<Item> = (0..7)
        .map(|n| item(Kind::Submission, &format!("s{n}"), DEC_1))
        .collect();
    index.upsert(&items, 1).unwrap();
    let all = Query::default();
    let first = index
        .search(
            &all,
            Window::Older {
                before: None,
                limit: 3,
            },
        )
        .unwrap();
    let second = index
        .search(
            &all,
            Window::Older {
                before: Some(first[2].rowid),
                limit: 3,
            },
        )
        .unwrap();
    let seen: Vec<_> = first.iter().chain(&second).map(|r| r.id.as_str()).collect();
    assert_eq!(seen, ["s6", "s5", "s4", "s3", "s2", "s1"]);
    let newer = index
        .search(
            &all,
            Window::Newer {
                after: second[0].seq,
                limit: 10,
            },
        )
        .unwrap();
    let newer: Vec<_> = newer.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        newer,
        ["s4", "s5", "s6"],
        "in the order the index learned of them"
    );
    assert_eq!(index.newest().unwrap(), first[0].seq);
    // An item older than every other, learned of last, is the newest to a
    // live page (it has not seen it), and last in the list.
    let newest_seq = index.newest().unwrap();
    index
        .upsert(&[item(Kind::Mail, "late", DEC_1 - DAY_MS)], 1)
        .unwrap();
    let late = index
        .search(
            &all,
            Window::Newer {
                after: newest_seq,
                limit: 10,
            },
        )
        .unwrap();
    assert_eq!(late.len(), 1);
    assert_eq!(late[0].id, "late");
    let text = Query::parse("kind:mail", datetime!(2026-12-06 12:00 UTC)).unwrap();
    assert_eq!(
        index
            .search(
                &text,
                Window::Newer {
                    after: 0,
                    limit: 10
                }
            )
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn an_update_keeps_the_opened_mark_and_reindexes_the_text() {
    let (_dir, index) = open();
    index.upsert(&sample(), 1).unwrap();
    assert!(index.mark_opened(Kind::File, "f1").unwrap());
    // The same item, unchanged, in a later generation: only marked seen.
    assert_eq!(index.upsert(&sample()[1..2], 2).unwrap(), 0);
    assert_eq!(index.remove_unseen(Kind::File, 2).unwrap(), 0, "seen in 2");
    let renamed = Item {
        name: "other.bin".into(),
        document: r#"{"name":"other.bin"}"#.into(),
        ..sample()[1].clone()
    };
    assert_eq!(index.upsert(&[renamed], 2).unwrap(), 0, "not new");
    let stored = index.get(Kind::File, "f1").unwrap().unwrap();
    assert!(stored.row.opened);
    assert!(ids(&index, "name:notes").is_empty());
    assert_eq!(ids(&index, "name:other"), ["f1"]);
}

#[test]
fn removals_by_id_by_expiry_and_by_a_full_listing() {
    let (_dir, index) = open();
    index.upsert(&sample(), 1).unwrap();
    assert!(index.remove(Kind::Mail, "m2").unwrap());
    assert!(!index.remove(Kind::Mail, "m2").unwrap(), "once");
    assert!(
        ids(&index, "carol").is_empty(),
        "gone from the text index too"
    );
    index
        .upsert(&[item(Kind::Submission, "s2", DEC_1 + 5)], 1)
        .unwrap();
    assert_eq!(index.remove_submissions_up_to("s1").unwrap(), 1);
    assert_eq!(ids(&index, "kind:submission"), ["s2"]);
    // A full listing of files saw none: the file is gone.
    index.upsert(&[], 2).unwrap();
    assert_eq!(index.remove_unseen(Kind::File, 2).unwrap(), 1);
    assert_eq!(index.count().unwrap(), 2);
}

#[test]
fn an_index_of_another_version_is_started_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index.sqlite3");
    {
        let index = Index::open(&path).unwrap();
        index.upsert(&sample(), 1).unwrap();
        index.set_meta("feed", "x").unwrap();
    }
    let index = Index::open(&path).unwrap();
    assert!(!index.is_fresh());
    assert_eq!(index.count().unwrap(), 4);
    assert_eq!(index.meta("feed").unwrap().as_deref(), Some("x"));
    drop(index);
    let conn = Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 0).unwrap();
    drop(conn);
    let index = Index::open(&path).unwrap();
    assert!(index.is_fresh());
    assert_eq!(index.count().unwrap(), 0);
}
