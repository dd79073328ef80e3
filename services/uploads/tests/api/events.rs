//! Each stored file is published to the gateway's event feed, after it is
//! named; a refused upload publishes nothing.

use inlet_common::publish::event::Kind;
use inlet_testkit::ingest::IngestStandIn;
use reqwest::multipart::Form;

use crate::helpers::{bytes, file_part, spawn_app};

#[tokio::test]
async fn every_stored_file_is_published_and_a_refused_one_is_not() {
    let mut gateway = IngestStandIn::start().await;
    let app = spawn_app(&[
        ("INLET_GATEWAY_URL", &gateway.url),
        ("INLET_LIMITS__MAX_FILE_BYTES", "1000"),
    ])
    .await;
    let form = Form::new()
        .part("userfile1", file_part("a.txt", b"first".to_vec()))
        .part("userfile2", file_part("b.bin", bytes(900)));
    let res = app.post_form(form).await;
    assert_eq!(res.status(), 200);
    let answer: serde_json::Value = res.json().await.unwrap();
    for stored in answer["stored"].as_array().unwrap() {
        let published = gateway.next().await;
        assert_eq!(published.event.source, "inlet-uploads");
        let Some(Kind::FileStored(file)) = published.event.kind else {
            panic!("not a file event: {:?}", published.event);
        };
        assert_eq!(file.stored_name, stored["name"].as_str().unwrap());
        assert_eq!(
            file.original_name,
            stored["original_name"].as_str().unwrap()
        );
        assert_eq!(file.field, stored["field"].as_str().unwrap());
        assert_eq!(file.size, stored["size"].as_u64().unwrap());
        assert_eq!(file.sha256, stored["sha256"].as_str().unwrap());
    }

    let refused = Form::new().part("userfile1", file_part("big.bin", bytes(1001)));
    assert_eq!(app.post_form(refused).await.status(), 413);
    // Events go out in order, so the PUT's being next means the refused
    // upload published nothing.
    assert_eq!(app.put("f", "after.txt", "x").await.status(), 200);
    let next = gateway.next().await;
    let Some(Kind::FileStored(file)) = next.event.kind else {
        panic!("not a file event");
    };
    assert_eq!(file.original_name, "after.txt");
}
