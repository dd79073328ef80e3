//! The cases of the table: each starts the service on the backend it is
//! given and checks, through HTTP, what a user of either would rely on.

use std::collections::BTreeSet;

use futures_util::stream;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use inlet_testkit::paging::assert_pages_like_every_list;

use super::backends::{Backend, Kind, PART_BYTES};
use crate::helpers::{bytes, file_part};

/// PUTs `body` as `name` from field `f`; returns the stored name.
async fn put(backend: &Backend, name: &str, body: Vec<u8>) -> String {
    let res = backend.app.put("f", name, body).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let answer: serde_json::Value = res.json().await.unwrap();
    answer["stored"][0]["name"].as_str().unwrap().to_owned()
}

/// `body` sent in chunks of 64 KiB with no length declared.
fn chunked(body: &[u8]) -> reqwest::Body {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        body.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
    reqwest::Body::wrap_stream(stream::iter(chunks))
}

async fn get(backend: &Backend, path: &str) -> reqwest::Response {
    backend
        .app
        .client
        .get(backend.app.url(path))
        .send()
        .await
        .unwrap()
}

async fn body_of(backend: &Backend, name: &str) -> Vec<u8> {
    let res = get(backend, &format!("/files/{name}")).await;
    assert_eq!(res.status(), 200);
    res.bytes().await.unwrap().to_vec()
}

/// Every name `/files` lists, page by page (`limit` each).
async fn listed(backend: &Backend, limit: usize) -> Vec<String> {
    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            Some(c) => format!("/files?limit={limit}&cursor={c}"),
            None => format!("/files?limit={limit}"),
        };
        let page: serde_json::Value = get(backend, &query).await.json().await.unwrap();
        let files = page["files"].as_array().unwrap();
        assert!(files.len() <= limit);
        names.extend(files.iter().map(|f| f["name"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return names,
        }
    }
}

pub async fn a_put_file_reads_back_byte_exact_with_its_metadata(kind: Kind) {
    let backend = Backend::start(kind, &[]).await;
    let body = bytes(300_000);
    let name = put(&backend, "report 😀.pdf", body.clone()).await;
    assert_eq!(body_of(&backend, &name).await, body);
    assert_eq!(backend.stored().await, std::slice::from_ref(&name));
    let meta: serde_json::Value = get(&backend, &format!("/files/{name}/meta"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(meta["name"], name.as_str());
    assert_eq!(meta["size"], 300_000);
    assert_eq!(meta["original_name"], "report 😀.pdf");
    assert_eq!(meta["field"], "f");
    assert_eq!(meta["sha256"], format!("{:x}", Sha256::digest(&body)));
    assert_eq!(meta["client"], "127.0.0.1");
    assert!(meta["stored_at"].as_str().unwrap().ends_with('Z'), "{meta}");
    backend.wait_until_clean().await;
    backend.stop().await;
}

pub async fn a_multipart_request_stores_every_file(kind: Kind) {
    let backend = Backend::start(kind, &[]).await;
    let form = reqwest::multipart::Form::new()
        .part("one", file_part("a.txt", b"first".to_vec()))
        .text("note", "a text field is not a file")
        .part("two", file_part("b.bin", bytes(200_000)));
    let res = backend.app.post_form(form).await;
    assert_eq!(res.status(), 200);
    let answer: serde_json::Value = res.json().await.unwrap();
    let names: Vec<String> = answer["stored"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names.len(), 2);
    assert_eq!(body_of(&backend, &names[0]).await, b"first");
    assert_eq!(body_of(&backend, &names[1]).await, bytes(200_000));
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(backend.stored().await, sorted);
    backend.wait_until_clean().await;
    backend.stop().await;
}

pub async fn a_large_file_streams_in_parts_and_reads_back_whole(kind: Kind) {
    let backend = Backend::start(kind, &[]).await;
    // Two and a half parts, sent in chunks of 64 KiB with no length declared.
    let body = bytes(PART_BYTES * 5 / 2);
    let res = backend.app.put("f", "big.bin", chunked(&body)).await;
    assert_eq!(res.status(), 200);
    let answer: serde_json::Value = res.json().await.unwrap();
    let stored = &answer["stored"][0];
    assert_eq!(stored["size"], body.len());
    assert_eq!(stored["sha256"], format!("{:x}", Sha256::digest(&body)));
    let name = stored["name"].as_str().unwrap();
    assert!(body_of(&backend, name).await == body, "read back whole");
    assert_eq!(backend.stored().await, [name.to_owned()]);
    backend.wait_until_clean().await;
    backend.stop().await;
}

pub async fn pages_run_newest_first_and_list_each_file_once(kind: Kind) {
    let backend = Backend::start(kind, &[]).await;
    let mut names = BTreeSet::new();
    for i in 0..7 {
        names.insert(put(&backend, &format!("{i}.txt"), bytes(10 + i)).await);
    }
    let first: serde_json::Value = get(&backend, "/files?limit=3").await.json().await.unwrap();
    let newest = put(&backend, "newest.txt", b"late".to_vec()).await;
    // The first page again starts with the file just stored…
    let again: serde_json::Value = get(&backend, "/files?limit=3").await.json().await.unwrap();
    assert_eq!(again["files"][0]["name"], newest.as_str());
    // …and the cursor of the old first page goes on without it or a repeat.
    let mut seen: Vec<String> = first["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_owned())
        .collect();
    let mut cursor = first["next_cursor"].as_str().map(str::to_owned);
    while let Some(c) = cursor {
        let page: serde_json::Value = get(&backend, &format!("/files?limit=3&cursor={c}"))
            .await
            .json()
            .await
            .unwrap();
        seen.extend(
            page["files"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["name"].as_str().unwrap().to_owned()),
        );
        cursor = page["next_cursor"].as_str().map(str::to_owned);
    }
    assert_eq!(seen.len(), 7, "{seen:?}");
    assert_eq!(seen.iter().cloned().collect::<BTreeSet<_>>(), names);
    // Walked two at a time it is one whole page; bad queries are 400.
    let all = assert_pages_like_every_list(&backend.app.url("/files"), "files", 1000).await;
    assert_eq!(all.len(), 8);
    assert_eq!(all[0]["name"], newest.as_str());
    backend.stop().await;
}

pub async fn downloads_serve_ranges_and_validators(kind: Kind) {
    let backend = Backend::start(kind, &[]).await;
    let body = bytes(1000);
    let name = put(&backend, "r.bin", body.clone()).await;
    let url = backend.app.url(&format!("/files/{name}"));
    let client = &backend.app.client;

    let whole = client.get(&url).send().await.unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    assert!(whole.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    assert_eq!(whole.headers()["x-content-type-options"], "nosniff");
    let etag = whole.headers()["etag"].clone();
    assert!(whole.headers().contains_key("last-modified"));
    assert_eq!(whole.bytes().await.unwrap(), body);

    let part = client
        .get(&url)
        .header("range", "bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.headers()["content-range"], "bytes 10-19/1000");
    assert_eq!(part.bytes().await.unwrap(), body[10..20]);

    let tail = client
        .get(&url)
        .header("range", "bytes=-5")
        .send()
        .await
        .unwrap();
    assert_eq!(tail.status(), 206);
    assert_eq!(tail.bytes().await.unwrap(), body[995..]);

    let beyond = client
        .get(&url)
        .header("range", "bytes=5000-")
        .send()
        .await
        .unwrap();
    assert_eq!(beyond.status(), 416);
    assert_eq!(beyond.headers()["content-range"], "bytes */1000");

    let head = client.head(&url).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["content-length"], "1000");
    assert!(head.bytes().await.unwrap().is_empty());

    let unchanged = client
        .get(&url)
        .header("if-none-match", etag.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(unchanged.status(), 304);
    let missing = get(&backend, "/files/no-such-file.txt").await;
    assert_eq!(missing.status(), 404);
    let escaping = get(&backend, "/files/..%2F..%2Fetc%2Fpasswd").await;
    assert_eq!(escaping.status(), 404);
    backend.stop().await;
}

pub async fn a_deleted_file_is_gone_from_every_read(kind: Kind) {
    let backend = Backend::start(kind, &[]).await;
    let keep = put(&backend, "keep.txt", b"kept".to_vec()).await;
    let gone = put(&backend, "gone.txt", b"to be deleted".to_vec()).await;
    let url = backend.app.url(&format!("/files/{gone}"));
    let res = backend.app.client.delete(&url).send().await.unwrap();
    assert_eq!(res.status(), 204);
    let again = backend.app.client.delete(&url).send().await.unwrap();
    assert_eq!(again.status(), 404, "deleting twice");
    assert_eq!(get(&backend, &format!("/files/{gone}")).await.status(), 404);
    assert_eq!(
        get(&backend, &format!("/files/{gone}/meta")).await.status(),
        404
    );
    assert_eq!(listed(&backend, 10).await, std::slice::from_ref(&keep));
    assert_eq!(backend.stored().await, [keep]);
    backend.stop().await;
}

pub async fn a_refused_file_leaves_nothing_behind(kind: Kind) {
    // Refused after one whole part has gone to the store.
    let cap = (PART_BYTES + 1024 * 1024).to_string();
    let backend = Backend::start(kind, &[("INLET_LIMITS__MAX_FILE_BYTES", &cap)]).await;
    let body = bytes(PART_BYTES * 2);
    let res = backend.app.put("f", "huge.bin", chunked(&body)).await;
    assert_eq!(res.status(), 413);
    assert!(res.text().await.unwrap().contains("limits.max_file_bytes"));
    backend.wait_until_clean().await;
    assert!(backend.stored().await.is_empty());
    assert!(listed(&backend, 10).await.is_empty());
    backend.stop().await;
}

pub async fn a_cut_upload_leaves_nothing_behind(kind: Kind) {
    let backend = Backend::start(kind, &[]).await;
    let declared = PART_BYTES * 3;
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", backend.app.port))
        .await
        .unwrap();
    let head = format!(
        "PUT / HTTP/1.1\r\nHost: localhost\r\nX-Field: f\r\nX-Filename: cut.bin\r\nContent-Length: {declared}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // More than a part, so the store has begun a multipart upload.
    stream
        .write_all(&bytes(PART_BYTES + PART_BYTES / 2))
        .await
        .unwrap();
    stream.flush().await.unwrap();
    // Wait until the service has the file under way, then cut.
    let deadline = tokio::time::Instant::now() + inlet_testkit::WAIT;
    while backend.app.metric("inlet_uploads_incoming_files").await == 0.0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the upload never began"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    drop(stream);
    backend.wait_until_clean().await;
    assert!(backend.stored().await.is_empty());
    backend.stop().await;
}

pub async fn retention_removes_the_oldest_files(kind: Kind) {
    let backend = Backend::start(kind, &[("INLET_STORE__SWEEP_INTERVAL", "1h")]).await;
    let mut names = Vec::new();
    for name in ["a.txt", "b.txt", "c.txt", "d.txt"] {
        names.push(put(&backend, name, name.as_bytes().to_vec()).await);
    }
    let kept = backend.stop().await;
    let backend = Backend::restart(
        kept,
        &[
            ("INLET_STORE__RETENTION_MAX_FILES", "2"),
            ("INLET_STORE__SWEEP_INTERVAL", "50ms"),
        ],
    )
    .await;
    let deadline = tokio::time::Instant::now() + inlet_testkit::WAIT;
    while backend.stored().await.len() > 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "retention never ran"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let mut newest = names[2..].to_vec();
    newest.sort();
    assert_eq!(backend.stored().await, newest, "the two newest stay");
    assert_eq!(listed(&backend, 10).await.len(), 2);
    backend.stop().await;
}
pub async fn a_taken_name_gets_the_next_free_name_even_when_racing(kind: Kind) {
    let backend = Backend::start(kind, &[]).await;
    let store = backend.open_store().await;
    // Twenty files wanting one name at once, small and large alike.
    let wanted = "same.txt";
    let commits = (0..20u8).map(|i| {
        let store = &store;
        async move {
            use inlet_uploads::store::{FileStore, PendingFile};
            let len = if i % 5 == 0 { PART_BYTES + 10 } else { 100 };
            let body = vec![i; len];
            let mut file = store.begin().await.unwrap();
            file.write(&body).await.unwrap();
            let meta = inlet_uploads::store::meta::FileMeta::new(
                wanted,
                "f",
                format!("{:x}", Sha256::digest(&body)),
                "now".into(),
            );
            let (sealed, kept) = file.seal(&meta).await.unwrap();
            assert!(kept);
            let name = store
                .commit(vec![(sealed, wanted.to_owned())])
                .await
                .unwrap()
                .remove(0);
            (name, body)
        }
    });
    let results = futures_util::future::join_all(commits).await;
    let names: BTreeSet<&String> = results.iter().map(|(name, _)| name).collect();
    assert_eq!(names.len(), 20, "every file kept its own name");
    assert!(names.contains(&wanted.to_owned()));
    for (name, body) in &results {
        assert!(
            body_of(&backend, name).await == *body,
            "{name} holds its own bytes"
        );
    }
    drop(store);
    backend.wait_until_clean().await;
    backend.stop().await;
}

pub async fn leftovers_of_a_crash_are_removed(kind: Kind) {
    let backend = Backend::start(kind, &[]).await;
    put(&backend, "kept.txt", b"whole".to_vec()).await;
    backend.plant_leftovers().await;
    assert!(!backend.leftovers().await.is_empty());
    let kept = backend.stop().await;
    // On the volume a start removes its temporary files at once (only this
    // machine writes them); in S3, where another replica may be writing,
    // only what is older than store.s3.abandoned_after goes.
    let backend = Backend::restart(kept, &[("INLET_STORE__S3__ABANDONED_AFTER", "1ms")]).await;
    backend.wait_until_clean().await;
    assert_eq!(backend.stored().await.len(), 1, "the stored file stays");
    backend.stop().await;
}
