//! Both upload pages in a real headless Chromium.

use inlet_testkit::browser::Browser;

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_put_page_uploads_the_chosen_file_and_shows_the_answer() {
    let app = spawn_app(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("picked.txt");
    std::fs::write(&file, b"chosen in a browser").unwrap();

    let browser = Browser::start().await;
    browser.client.goto(&app.url("/put")).await.unwrap();
    assert!(
        browser.inputs_without_a_name().await.is_empty(),
        "every input has a name"
    );
    browser
        .type_into("input[type=file]", file.to_str().unwrap())
        .await;
    browser.click("input[type=submit]").await;
    let status = browser
        .text_of("//pre[@id='status' and contains(text(), 'successfully saved')]")
        .await;
    assert_eq!(status, "picked.txt successfully saved!");
    app.assert_only_file("userfile1-", "-picked.txt", b"chosen in a browser");
    browser.close().await;
}

#[tokio::test]
async fn the_multipart_page_stores_the_chosen_files_and_shows_the_answer() {
    let app = spawn_app(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first.txt");
    std::fs::write(&first, b"first file").unwrap();

    let browser = Browser::start().await;
    browser.client.goto(&app.url("/")).await.unwrap();
    assert!(
        browser.inputs_without_a_name().await.is_empty(),
        "every input has a name"
    );
    browser
        .type_into("input[name=userinput1]", "typed text")
        .await;
    browser
        .type_into("input[name=userfile1]", first.to_str().unwrap())
        .await;
    // The second file input stays empty: the browser sends it without a file.
    browser.click("input[type=submit]").await;
    let answer = browser
        .text_of("//*[contains(text(), 'All files processed!')]")
        .await;
    assert_eq!(
        answer,
        "processed \"userinput1\" input.\nfirst.txt successfully saved!\nAll files processed!"
    );
    app.assert_only_file("userfile1-", "-first.txt", b"first file");
    browser.close().await;
}
