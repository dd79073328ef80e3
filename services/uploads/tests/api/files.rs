//! `GET /files` and `GET /files/{name}`.

use sha2::{Digest, Sha256};

use crate::helpers::{bytes, spawn_app};

async fn put_named(app: &crate::helpers::TestApp, name: &str, body: Vec<u8>) -> String {
    let res = app.put("userfile1", name, body).await;
    assert_eq!(res.status(), 200);
    let answer: serde_json::Value = res.json().await.unwrap();
    answer["stored"][0]["name"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_download_is_byte_identical_and_ranges_give_the_right_slice() {
    let app = spawn_app(&[]).await;
    let content = bytes(200_000);
    let name = put_named(&app, "photo.png", content.clone()).await;

    let res = app
        .client
        .get(app.url(&format!("/files/{name}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");
    let disposition = res.headers()["content-disposition"].to_str().unwrap();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    assert!(disposition.contains(&name), "{disposition}");
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(res.headers()["accept-ranges"], "bytes");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert!(res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .starts_with("sandbox"));
    assert_eq!(res.bytes().await.unwrap(), content);

    let res = app
        .client
        .get(app.url(&format!("/files/{name}")))
        .header("range", "bytes=1000-1999")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 206);
    assert_eq!(res.headers()["content-range"], "bytes 1000-1999/200000");
    assert_eq!(res.bytes().await.unwrap(), content[1000..2000]);

    let res = app
        .client
        .get(app.url(&format!("/files/{name}")))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304, "the ETag identifies the stored bytes");
}

#[tokio::test]
async fn unknown_names_and_encoded_escapes_are_404() {
    let app = spawn_app(&[]).await;
    let outside = app.data_dir.path().join("secret.txt");
    std::fs::write(&outside, b"not for download").unwrap();
    put_named(&app, "real.txt", b"real".to_vec()).await;
    for path in [
        "/files/nothing-here.txt",
        "/files/..%2Fsecret.txt",
        "/files/..%2F..%2Fetc%2Fpasswd",
        "/files/%2E%2E%2Fsecret.txt",
        "/files/..%5Csecret.txt",
        "/files/%2e%2e",
        "/files/.incoming-x",
        "/files/real.txt%00",
    ] {
        // Raw, since a URL library would resolve `%2e%2e` before sending.
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: {}\r\nConnection: close\r\n\r\n",
            inlet_testkit::access::admin_bearer()
        );
        let reply = inlet_testkit::raw::send(
            app.port,
            request.as_bytes(),
            false,
            std::time::Duration::from_secs(10),
        )
        .await;
        assert_eq!(reply.status(), Some(404), "{path}: {}", reply.text);
        assert!(!reply.text.contains("not for download"), "{path}");
    }
}

#[tokio::test]
async fn the_listing_is_newest_first_paginated_and_describes_each_file() {
    let app = spawn_app(&[]).await;
    let mut names = Vec::new();
    for i in 0..3u8 {
        names.push(put_named(&app, &format!("f{i}.bin"), vec![i; 100 + i as usize]).await);
    }
    let res = app
        .client
        .get(app.url("/files?limit=2"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let page: serde_json::Value = res.json().await.unwrap();
    let files = page["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(files[0]["name"], names[2].as_str(), "newest first");
    assert_eq!(files[1]["name"], names[1].as_str());
    assert_eq!(files[0]["size"], 102);
    assert_eq!(files[0]["original_name"], "f2.bin");
    assert_eq!(files[0]["field"], "userfile1");
    assert_eq!(
        files[0]["sha256"],
        format!("{:x}", Sha256::digest([2u8; 102]))
    );
    assert!(files[0]["stored_at"].as_str().unwrap().ends_with('Z'));

    let cursor = page["next_cursor"].as_str().unwrap();
    let next: serde_json::Value = app
        .client
        .get(app.url(&format!("/files?limit=2&cursor={cursor}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(next["files"].as_array().unwrap().len(), 1);
    assert_eq!(next["files"][0]["name"], names[0].as_str());
    assert!(next["next_cursor"].is_null());

    for bad in ["/files?limit=0", "/files?limit=abc", "/files?cursor=zz"] {
        let res = app.client.get(app.url(bad)).send().await.unwrap();
        assert_eq!(res.status(), 400, "{bad}");
    }
}
