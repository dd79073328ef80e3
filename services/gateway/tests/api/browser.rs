//! The page in headless Chromium: the seed's socket, and the live panel.

use inlet_testkit::browser::Browser;

use crate::helpers::spawn_gateway;
use crate::publishing::spawn_forms;

#[tokio::test]
async fn the_page_says_hello_and_shows_a_form_post_as_it_arrives() {
    let gw = spawn_gateway(&[]).await;
    let forms = spawn_forms(&gw.grpc_url()).await;
    let browser = Browser::start().await;
    browser.client.goto(&gw.url("/")).await.unwrap();
    // Arrivals are the owner's: the panel asks for the token first.
    browser
        .text_of("//p[@id='feed-state'][contains(., 'needs a credential')]")
        .await;
    browser.type_into("#token", "not-the-token-at-all").await;
    browser.click("#sign-in button").await;
    browser
        .text_of("//p[@id='feed-state'][contains(., 'not accepted')]")
        .await;
    browser
        .type_into("#token", inlet_testkit::access::ADMIN_TOKEN)
        .await;
    browser.click("#sign-in button").await;
    // The panel is live once it has its `subscribed` frame.
    browser
        .text_of("//p[@id='feed-state'][text()='Live']")
        .await;
    browser
        .text_of("//p[@id='socket-state'][text()='Connected']")
        .await;

    browser.type_into("#msg", "Hello").await;
    browser.click("#send").await;
    let answer = browser
        .text_of("//ol[@id='output']/li[contains(., 'Websockets!')]")
        .await;
    assert_eq!(answer, "Received: Websockets!");

    assert_eq!(
        forms.post_form("name=Ada&topic=engines").await.status(),
        200
    );
    let row = browser
        .text_of("//table[@id='events']//tr[contains(@class, 'arrival')]")
        .await;
    assert!(row.contains("Form submitted"), "{row}");
    assert!(row.contains("inlet-forms"), "{row}");
    assert!(row.contains("name, topic"), "{row}");

    // Signing out stops the feed and asks for the token again.
    browser.click("#sign-out").await;
    browser
        .text_of("//p[@id='feed-state'][text()='Signed out.']")
        .await;
    browser.client.refresh().await.unwrap();
    browser
        .text_of("//p[@id='feed-state'][contains(., 'needs a credential')]")
        .await;
    browser.close().await;
}
