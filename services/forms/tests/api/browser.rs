//! The two pages in a real headless Chromium.

use fantoccini::Locator;
use inlet_testkit::browser::Browser;
use inlet_testkit::WAIT;

use crate::helpers::spawn_app;

/// Types into the seed form's two inputs and presses its submit button.
async fn fill_and_submit(c: &fantoccini::Client, first: &str, second: &str) {
    for (name, text) in [("userinput1", first), ("userinput2", second)] {
        let input = c
            .find(Locator::Css(&format!("input[name={name}]")))
            .await
            .unwrap();
        input.send_keys(text).await.unwrap();
    }
    c.find(Locator::Css("input[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

#[tokio::test]
async fn submitting_the_form_shows_what_was_posted() {
    let app = spawn_app(&[]).await;
    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&app.url("/")).await.unwrap();
    fill_and_submit(c, "hello", "world").await;
    let body = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::XPath("//*[contains(text(), 'You Posted')]"))
        .await
        .expect("the answer page appears");
    let text = body.text().await.unwrap();
    assert_eq!(
        text,
        r#"You Posted: {"userinput1":"hello","userinput2":"world"}"#
    );
    assert_eq!(app.stored().len(), 1);
    browser.close().await;
}

#[tokio::test]
async fn the_json_page_shows_the_answer_without_a_page_load() {
    let app = spawn_app(&[]).await;
    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&app.url("/json")).await.unwrap();
    // A marker that a page load would wipe out.
    c.execute("window.inletMarker = 'same page'; return null;", vec![])
        .await
        .unwrap();
    fill_and_submit(c, "hi", "there").await;
    let result = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::XPath(
            "//p[@id='result' and contains(text(), 'You Posted')]",
        ))
        .await
        .expect("the answer appears in the page");
    assert_eq!(
        result.text().await.unwrap(),
        r#"You Posted: {"userinput1":"hi","userinput2":"there"}"#
    );
    let marker = c
        .execute("return window.inletMarker;", vec![])
        .await
        .unwrap();
    assert_eq!(marker, "same page", "no page load happened");
    let stored = app.stored();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["content_type"], "application/json");
    browser.close().await;
}

/// Every page forms serves to people.
const PAGES: [&str; 4] = ["/", "/json", "/about", "/contact"];

#[tokio::test]
async fn every_input_on_every_page_has_an_accessible_name() {
    let app = spawn_app(&[]).await;
    let browser = Browser::start().await;
    let c = &browser.client;
    for path in PAGES {
        c.goto(&app.url(path)).await.unwrap();
        let unnamed = browser.inputs_without_a_name().await;
        assert!(
            unnamed.is_empty(),
            "{path}: inputs without a name: {unnamed:?}"
        );
        let look = c
            .execute(
                "return {
                    viewport: !!document.querySelector('meta[name=viewport]'),
                    styled: [...document.styleSheets].some(s => s.cssRules.length > 0),
                    current: document.querySelector('nav a[aria-current=page]')?.getAttribute('href'),
                };",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(
            look,
            serde_json::json!({"viewport": true, "styled": true, "current": path}),
            "{path}"
        );
    }
    browser.close().await;
}
