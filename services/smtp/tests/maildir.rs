//! Maildir delivery on real files: every copy or none, byte-exact, unique
//! names, nothing left in `tmp/`, readable by a Maildir library.

use std::net::IpAddr;
use std::path::Path;

use inlet_smtp::mailbox::{Mailbox, Mailboxes};
use inlet_smtp::maildir::{DeliveryError, Envelope, MailStore};

const LIMIT: u64 = 10 * 1024 * 1024;

fn seed_store(root: &Path) -> (MailStore, Mailboxes) {
    let users = ["you".to_owned(), "another".to_owned()];
    let domains = ["localhost".to_owned(), "example.com".to_owned()];
    let (store, _) = MailStore::open(root, &users, "mx.test").unwrap();
    (store, Mailboxes::new(&users, &domains))
}

fn envelope(id: &str) -> Envelope {
    Envelope {
        sender: "me@me.com".into(),
        helo: "client.test".into(),
        client: IpAddr::from([127, 0, 0, 1]),
        id: id.into(),
        received_at: time::OffsetDateTime::now_utc(),
    }
}

fn files_in(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

fn recipients(boxes: &Mailboxes, addresses: &[&str]) -> Vec<Mailbox> {
    addresses
        .iter()
        .map(|a| boxes.resolve(a).unwrap())
        .collect()
}

#[test]
fn one_copy_per_recipient_each_with_its_trace_headers_and_the_exact_body() {
    let dir = tempfile::tempdir().unwrap();
    let (store, boxes) = seed_store(dir.path());
    let body = b"Subject: hi\r\n\r\nhello there!\r\n.leading dot kept once\r\n\xff\x00 binary\r\n";
    let to = recipients(&boxes, &["you@example.com", "another@localhost"]);
    let mut delivery = store
        .begin(&envelope("id-1"), &to, LIMIT, "mx.test")
        .unwrap();
    for chunk in body.chunks(7) {
        delivery.write(chunk).unwrap();
    }
    let stored = delivery.commit().unwrap();
    assert_eq!(stored.len(), 2);
    for (user, address) in [("you", "you@example.com"), ("another", "another@localhost")] {
        let new = files_in(&dir.path().join(user).join("new"));
        assert_eq!(new.len(), 1, "{user}");
        assert!(stored.contains(&new[0]));
        assert!(files_in(&dir.path().join(user).join("tmp")).is_empty());
        let bytes = std::fs::read(&new[0]).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.starts_with("Return-Path: <me@me.com>\r\n"), "{text}");
        assert!(
            text.contains(&format!("Delivered-To: {address}\r\n")),
            "{text}"
        );
        assert!(text.contains("with ESMTP id id-1"), "{text}");
        assert!(bytes.ends_with(body), "the body is stored byte for byte");

        // A Maildir reader finds it, with our headers.
        let maildir = maildir::Maildir::from(dir.path().join(user));
        let mut entries: Vec<_> = maildir.list_new().map(Result::unwrap).collect();
        assert_eq!(entries.len(), 1);
        let parsed = entries[0].parsed().unwrap();
        let header = |name: &str| {
            parsed
                .headers
                .iter()
                .find(|h| h.get_key().eq_ignore_ascii_case(name))
                .map(|h| h.get_value())
        };
        assert_eq!(header("Delivered-To").as_deref(), Some(address));
        assert_eq!(header("Subject").as_deref(), Some("hi"));
        assert!(header("Received").unwrap().contains("for <"));
    }
}

#[test]
fn a_message_over_the_limit_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (store, boxes) = seed_store(dir.path());
    let to = recipients(&boxes, &["you@example.com", "another@localhost"]);
    let mut delivery = store.begin(&envelope("big"), &to, 100, "mx.test").unwrap();
    delivery.write(&[b'a'; 100]).unwrap();
    let err = delivery.write(b"b").unwrap_err();
    assert!(
        matches!(err, DeliveryError::TooLarge { limit: 100 }),
        "{err}"
    );
    assert!(err.to_string().contains("smtp.max_message_bytes"));
    drop(delivery);
    assert_nothing_stored(dir.path());
}

#[test]
fn a_delivery_dropped_midway_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (store, boxes) = seed_store(dir.path());
    let to = recipients(&boxes, &["you@example.com"]);
    let mut delivery = store
        .begin(&envelope("cut"), &to, LIMIT, "mx.test")
        .unwrap();
    delivery.write(b"half a message").unwrap();
    assert_eq!(files_in(&dir.path().join("you").join("tmp")).len(), 1);
    drop(delivery);
    assert_nothing_stored(dir.path());
}

#[test]
fn when_one_copy_cannot_be_named_no_copy_remains() {
    let dir = tempfile::tempdir().unwrap();
    let (store, boxes) = seed_store(dir.path());
    let to = recipients(&boxes, &["you@example.com", "another@localhost"]);
    let mut delivery = store
        .begin(&envelope("half"), &to, LIMIT, "mx.test")
        .unwrap();
    delivery.write(b"for both or for none\r\n").unwrap();
    // The second mailbox's new/ is gone: its rename fails after the first's.
    std::fs::remove_dir(dir.path().join("another").join("new")).unwrap();
    assert!(matches!(delivery.commit(), Err(DeliveryError::Io(_))));
    assert!(files_in(&dir.path().join("you").join("new")).is_empty());
    assert!(files_in(&dir.path().join("you").join("tmp")).is_empty());
    assert!(files_in(&dir.path().join("another").join("tmp")).is_empty());
}

#[test]
fn concurrent_deliveries_get_unique_names() {
    let dir = tempfile::tempdir().unwrap();
    let (store, boxes) = seed_store(dir.path());
    let to = recipients(&boxes, &["you@example.com"]);
    std::thread::scope(|scope| {
        for session in 0..20 {
            let (store, to) = (&store, &to);
            scope.spawn(move || {
                for message in 0..50 {
                    let id = format!("{session}-{message}");
                    let mut delivery = store.begin(&envelope(&id), to, LIMIT, "mx.test").unwrap();
                    delivery.write(id.as_bytes()).unwrap();
                    delivery.commit().unwrap();
                }
            });
        }
    });
    let new = files_in(&dir.path().join("you").join("new"));
    assert_eq!(new.len(), 1000);
    let mut bodies: Vec<String> = new
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            text.rsplit("\r\n").next().unwrap().to_owned()
        })
        .collect();
    bodies.sort();
    bodies.dedup();
    assert_eq!(bodies.len(), 1000, "every message exactly once");
}

#[test]
fn opening_clears_what_a_crash_left_in_tmp() {
    let dir = tempfile::tempdir().unwrap();
    let (store, boxes) = seed_store(dir.path());
    let to = recipients(&boxes, &["you@example.com"]);
    let mut delivery = store
        .begin(&envelope("crash"), &to, LIMIT, "mx.test")
        .unwrap();
    delivery.write(b"interrupted").unwrap();
    // As if the process died here: the copy stays in tmp/.
    std::mem::forget(delivery);
    let users = ["you".to_owned(), "another".to_owned()];
    let (_, removed) = MailStore::open(dir.path(), &users, "mx.test").unwrap();
    assert_eq!(removed, 1);
    assert_nothing_stored(dir.path());
}

fn assert_nothing_stored(root: &Path) {
    for user in ["you", "another"] {
        for folder in ["tmp", "new", "cur"] {
            let files = files_in(&root.join(user).join(folder));
            assert!(files.is_empty(), "{user}/{folder}: {files:?}");
        }
    }
}

#[test]
fn opening_leaves_another_replicas_fresh_copies_in_tmp_but_clears_stale_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (store, boxes) = seed_store(dir.path());
    drop((store, boxes));
    let tmp = dir.path().join("you").join("tmp");
    // Another machine's delivery under way, and one it left long ago.
    let under_way = tmp.join("1765000000.M1P1Rabc123Q0.other-replica");
    let abandoned = tmp.join("1600000000.M1P1Rdef456Q0.other-replica");
    std::fs::write(&under_way, b"being written").unwrap();
    std::fs::write(&abandoned, b"left by a crash").unwrap();
    let long_ago = std::time::SystemTime::now()
        - inlet_smtp::maildir::STALE_TMP
        - std::time::Duration::from_secs(60);
    std::fs::File::options()
        .write(true)
        .open(&abandoned)
        .unwrap()
        .set_modified(long_ago)
        .unwrap();
    let users = ["you".to_owned(), "another".to_owned()];
    let (_, removed) = MailStore::open(dir.path(), &users, "mx.test").unwrap();
    assert_eq!(removed, 1);
    assert!(
        under_way.exists(),
        "another replica's delivery is left alone"
    );
    assert!(
        !abandoned.exists(),
        "a copy older than 36 hours is a crash's"
    );
}

#[test]
fn two_stores_on_one_volume_never_make_the_same_name() {
    let dir = tempfile::tempdir().unwrap();
    let (first, boxes) = seed_store(dir.path());
    let users = ["you".to_owned(), "another".to_owned()];
    // A second process on the same machine and volume, as two replicas
    // whose host names and process ids are the same (PID 1 in containers).
    let (second, _) = MailStore::open(dir.path(), &users, "mx.test").unwrap();
    let to = recipients(&boxes, &["you@example.com"]);
    for n in 0..200 {
        for store in [&first, &second] {
            let mut delivery = store
                .begin(&envelope(&format!("m{n}")), &to, LIMIT, "mx.test")
                .unwrap();
            delivery
                .write(format!("Subject: {n}\r\n\r\nbody\r\n").as_bytes())
                .unwrap();
            delivery.commit().unwrap();
        }
    }
    let stored = files_in(&dir.path().join("you").join("new"));
    assert_eq!(
        stored.len(),
        400,
        "every delivery kept under a name of its own"
    );
}
