//! Listing and downloading files needs the credential; uploading does not.

use inlet_testkit::access::{assert_read_needs_the_credential, READ_TOKEN};
use inlet_testkit::http::get_json_as_admin;

use crate::helpers::spawn_app;

#[tokio::test]
async fn listing_and_downloading_need_the_credential_and_uploading_does_not() {
    let app = spawn_app(&[("INLET_READ_TOKEN", READ_TOKEN)]).await;
    let put = inlet_testkit::http::client()
        .put(app.url("/"))
        .header("x-field", "doc")
        .header("x-filename", "note.txt")
        .header("accept", "application/json")
        .body("kept for its owner")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200, "intake stays open");
    let answer: serde_json::Value = put.json().await.unwrap();
    let name = answer["stored"][0]["name"].as_str().unwrap().to_owned();
    let download = format!("/files/{name}");
    for path in ["/files", "/files?limit=1", &download] {
        assert_read_needs_the_credential(&app.url(path), true).await;
    }
    let text = app
        .client
        .get(app.url(&download))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(text, "kept for its owner");
}

#[tokio::test]
async fn a_files_meta_is_one_listed_item_and_unknown_names_are_404() {
    let app = spawn_app(&[]).await;
    let res = app.put("doc", "meta.txt", "some bytes").await;
    assert_eq!(res.status(), 200);
    let answer: serde_json::Value = res.json().await.unwrap();
    let name = answer["stored"][0]["name"].as_str().unwrap().to_owned();
    let url = app.url(&format!("/files/{name}/meta"));
    assert_read_needs_the_credential(&url, false).await;
    let meta = get_json_as_admin(&url).await;
    let listed = get_json_as_admin(&app.url("/files")).await;
    assert_eq!(listed["files"][0], meta);
    for key in [
        "id",
        "received_at",
        "trace_id",
        "size",
        "name",
        "sha256",
        "field",
        "original_name",
    ] {
        assert!(meta.get(key).is_some(), "{key} in {meta}");
    }
    for unknown in ["nothing.txt", "..%2Fsecret", ".incoming-x"] {
        let res = app
            .client
            .get(app.url(&format!("/files/{unknown}/meta")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{unknown}");
    }
}

#[tokio::test]
async fn files_page_like_every_list() {
    let app = spawn_app(&[("INLET_LIMITS__MAX_LIST_LIMIT", "20")]).await;
    for n in 0..5 {
        let res = app
            .put("doc", &format!("n{n}.txt"), format!("file {n}"))
            .await;
        assert_eq!(res.status(), 200);
    }
    let all =
        inlet_testkit::paging::assert_pages_like_every_list(&app.url("/files"), "files", 20).await;
    let order: Vec<&str> = all
        .iter()
        .map(|f| f["original_name"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["n4.txt", "n3.txt", "n2.txt", "n1.txt", "n0.txt"]);
}
