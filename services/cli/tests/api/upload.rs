//! `inlet upload` and `inlet put` against inlet-uploads.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::helpers::{inlet, service, url};

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn two_files_arrive_intact_in_one_multipart_post() {
    let data = tempfile::tempdir().unwrap();
    let uploads = service("uploads", data.path(), None, &[]).await;
    let files = tempfile::tempdir().unwrap();
    let text = files.path().join("notes.txt");
    let binary = files.path().join("photo.png");
    std::fs::write(&text, "first file\n").unwrap();
    // Bytes of every value, several pieces long.
    let pixels: Vec<u8> = (0..3 * 1024 * 1024u32)
        .map(|i| (i * 7 % 251) as u8)
        .collect();
    std::fs::write(&binary, &pixels).unwrap();

    let run = inlet(
        &[
            "upload",
            &url(&uploads, "/"),
            text.to_str().unwrap(),
            binary.to_str().unwrap(),
            "--field",
            "title=holiday",
            "-H",
            "accept: application/json",
        ],
        b"",
    )
    .await;
    assert_eq!(run.code(), 0, "{run:?}");
    // stderr is not a terminal here: no progress bar, only the status line.
    assert_eq!(run.stderr.trim(), "HTTP/1.1 200 OK", "{}", run.stderr);
    let answer: Value = serde_json::from_str(&run.stdout).unwrap();
    let stored = answer["stored"].as_array().unwrap();
    assert_eq!(stored.len(), 2, "{answer}");
    assert_eq!(stored[0]["field"], "userfile0");
    assert_eq!(stored[0]["original_name"], "notes.txt");
    assert_eq!(stored[0]["sha256"], sha256_hex(b"first file\n"));
    assert_eq!(stored[1]["field"], "userfile1");
    assert_eq!(stored[1]["original_name"], "photo.png");
    assert_eq!(stored[1]["sha256"], sha256_hex(&pixels));

    // And the bytes on the server's disk are the bytes sent.
    let name = stored[1]["name"].as_str().unwrap();
    let on_disk = std::fs::read(data.path().join("uploads").join(name)).unwrap();
    assert_eq!(sha256_hex(&on_disk), sha256_hex(&pixels));
}

#[tokio::test]
async fn put_names_the_file_and_field_and_streams_it() {
    let data = tempfile::tempdir().unwrap();
    let uploads = service("uploads", data.path(), None, &[]).await;
    let files = tempfile::tempdir().unwrap();
    let report = files.path().join("Q3 report – final.txt");
    std::fs::write(&report, "numbers\n").unwrap();

    let run = inlet(
        &[
            "put",
            &url(&uploads, "/"),
            report.to_str().unwrap(),
            "--field",
            "avatar",
        ],
        b"",
    )
    .await;
    assert_eq!(run.code(), 0, "{run:?}");
    assert_eq!(run.stdout, "Q3 report – final.txt successfully saved!\n");

    let listing = inlet(&["get", &url(&uploads, "/files")], b"").await;
    assert!(listing.stdout.contains("\"avatar\""), "{}", listing.stdout);

    let missing = inlet(&["put", &url(&uploads, "/"), "/nonexistent/file.bin"], b"").await;
    assert_eq!(missing.code(), 1, "{missing:?}");
    assert!(
        missing.stderr.contains("cannot read /nonexistent/file.bin"),
        "{}",
        missing.stderr
    );
}
