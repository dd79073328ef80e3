//! The PUT page in a real headless Chromium.

use fantoccini::Locator;
use inlet_testkit::browser::Browser;
use inlet_testkit::WAIT;

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_put_page_uploads_the_chosen_file_and_shows_the_answer() {
    let app = spawn_app(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("picked.txt");
    std::fs::write(&file, b"chosen in a browser").unwrap();

    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&app.url("/put")).await.unwrap();
    assert!(
        browser.inputs_without_a_name().await.is_empty(),
        "every input has a name"
    );
    c.find(Locator::Css("input[type=file]"))
        .await
        .unwrap()
        .send_keys(file.to_str().unwrap())
        .await
        .unwrap();
    c.find(Locator::Css("input[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let status = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::XPath(
            "//pre[@id='status' and contains(text(), 'successfully saved')]",
        ))
        .await
        .expect("the answer appears in the page");
    assert_eq!(
        status.text().await.unwrap(),
        "picked.txt successfully saved!"
    );
    let stored = app.stored();
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert!(stored[0].starts_with("userfile1-") && stored[0].ends_with("-picked.txt"));
    assert_eq!(
        std::fs::read(app.uploads_dir().join(&stored[0])).unwrap(),
        b"chosen in a browser"
    );
    browser.close().await;
}

#[tokio::test]
async fn the_multipart_page_stores_the_chosen_files_and_shows_the_answer() {
    let app = spawn_app(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first.txt");
    std::fs::write(&first, b"first file").unwrap();

    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&app.url("/")).await.unwrap();
    assert!(
        browser.inputs_without_a_name().await.is_empty(),
        "every input has a name"
    );
    c.find(Locator::Css("input[name=userinput1]"))
        .await
        .unwrap()
        .send_keys("typed text")
        .await
        .unwrap();
    c.find(Locator::Css("input[name=userfile1]"))
        .await
        .unwrap()
        .send_keys(first.to_str().unwrap())
        .await
        .unwrap();
    // The second file input stays empty: the browser sends it without a file.
    c.find(Locator::Css("input[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let answer = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::XPath(
            "//*[contains(text(), 'All files processed!')]",
        ))
        .await
        .expect("the answer page appears");
    assert_eq!(
        answer.text().await.unwrap(),
        "processed \"userinput1\" input.\nfirst.txt successfully saved!\nAll files processed!"
    );
    let stored = app.stored();
    assert_eq!(stored.len(), 1, "the empty input is skipped: {stored:?}");
    assert!(stored[0].starts_with("userfile1-") && stored[0].ends_with("-first.txt"));
    assert_eq!(
        std::fs::read(app.uploads_dir().join(&stored[0])).unwrap(),
        b"first file"
    );
    browser.close().await;
}
