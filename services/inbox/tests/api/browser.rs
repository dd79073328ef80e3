//! The inbox in headless Chromium, as its owner uses it: sign in, watch
//! arrivals come, search, open each kind, read a hostile mail safely,
//! delete, sign out — with axe-core checking every kind of page.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use fantoccini::Locator;
use inlet_testkit::access::ADMIN_TOKEN;
use inlet_testkit::browser::Browser;
use inlet_testkit::WAIT;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::helpers::{Inbox, Services};

/// A "remote" server a mail's HTML points at: it counts the requests it
/// gets (answered with an empty 204).
struct Tracker {
    port: u16,
    hits: Arc<AtomicUsize>,
    hit: Arc<Notify>,
}

impl Tracker {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (hits, hit) = (Arc::new(AtomicUsize::new(0)), Arc::new(Notify::new()));
        let (counter, notify) = (Arc::clone(&hits), Arc::clone(&hit));
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                notify.notify_waiters();
                let _ = stream
                    .write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n")
                    .await;
            }
        });
        Self { port, hits, hit }
    }

    fn count(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    async fn wait_for_a_hit(&self) {
        let hit = self.hit.notified();
        if self.count() > 0 {
            return;
        }
        tokio::time::timeout(WAIT, hit)
            .await
            .expect("the remote image is fetched once allowed");
    }
}

async fn row_with(browser: &Browser, text: &str) -> String {
    browser
        .text_of(&format!("//tbody[@id='rows']/tr[contains(., '{text}')]"))
        .await
}

async fn rows(browser: &Browser) -> String {
    browser
        .client
        .find(Locator::Css("#arrivals"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn accessible(browser: &Browser, what: &str) {
    let problems = browser.serious_accessibility_problems().await;
    assert!(problems.is_empty(), "{what}: {problems:#?}");
    let unnamed = browser.inputs_without_a_name().await;
    assert!(unnamed.is_empty(), "{what}: {unnamed:?}");
}

#[tokio::test]
async fn the_owner_signs_in_sees_arrivals_live_searches_reads_deletes_and_signs_out() {
    let services = Services::start().await;
    let index_dir = tempfile::tempdir().unwrap();
    let inbox = Inbox::start(&services.inbox_env(index_dir.path())).await;
    let tracker = Tracker::start().await;
    let browser = Browser::start().await;

    // Signing in, from the page a first visit is sent to.
    browser.client.goto(&inbox.url("/")).await.unwrap();
    browser.text_of("//h1[text()='Sign in']").await;
    accessible(&browser, "the sign-in page").await;
    browser
        .type_into("#token", "not-the-token-0123456789")
        .await;
    browser.click("form button[type=submit]").await;
    browser
        .text_of("//p[@role='alert'][contains(., 'not one this inbox accepts')]")
        .await;
    browser.type_into("#token", ADMIN_TOKEN).await;
    browser.click("form button[type=submit]").await;
    browser.text_of("//h1[text()='Arrivals']").await;

    // Arrivals appear in the open list without a reload.
    services
        .post(r#"{"name":"Zebedee","note":"periwinkle"}"#)
        .await;
    row_with(&browser, "Zebedee").await;
    services
        .upload("holiday-notes.txt", b"sunny days at the sea")
        .await;
    row_with(&browser, "holiday-notes.txt").await;
    let hostile = format!(
        r#"<html><head><title>Original</title></head><body><p id="marker">untouched</p>
        <script>document.getElementById('marker').textContent = 'script ran'; parent.document.title = 'owned';</script>
        <img alt="tracking pixel" src="http://127.0.0.1:{}/pixel.gif"></body></html>"#,
        tracker.port
    );
    services
        .mail(
            "Alice Example <alice@example.com>",
            "Quarterly figures",
            "see the attached table",
            &hostile,
        )
        .await;
    row_with(&browser, "Quarterly figures").await;
    let live = browser.text_of("//p[@id='live-state']").await;
    assert_eq!(live, "3 new arrivals");
    assert!(row_with(&browser, "Quarterly figures")
        .await
        .contains("attachment"));
    accessible(&browser, "the list").await;
    // At 375 px wide the list fits: nothing to scroll sideways.
    browser.client.set_window_size(375, 812).await.unwrap();
    let overflow = browser
        .client
        .execute(
            "return document.documentElement.scrollWidth - window.innerWidth;",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        overflow.as_i64().unwrap() <= 0,
        "the list is wider than 375 px by {overflow}"
    );
    browser.client.set_window_size(1280, 900).await.unwrap();

    // Search from the box, then each operator: the query is in the URL.
    browser.type_into("#q", "periwinkle").await;
    browser.click("form.search button").await;
    // The new page is the one whose box holds the search (the old page
    // has the same heading, and may still be there a moment).
    browser
        .text_of("//input[@id='q'][@value='periwinkle']")
        .await;
    let url = browser.client.current_url().await.unwrap();
    assert_eq!(url.query(), Some("q=periwinkle"));
    let found = rows(&browser).await;
    assert!(
        found.contains("Zebedee") && !found.contains("Quarterly"),
        "{found}"
    );
    accessible(&browser, "a search").await;
    for (q, wanted, unwanted) in [
        ("kind:file", "holiday-notes.txt", "Zebedee"),
        ("-kind:file", "Zebedee", "holiday-notes.txt"),
        ("from:alice", "Quarterly", "Zebedee"),
        ("to:you@localhost", "Quarterly", "holiday"),
        ("subject:\"quarterly figures\"", "Quarterly", "Zebedee"),
        ("mailbox:you", "Quarterly", "holiday"),
        ("name:holiday", "holiday-notes.txt", "Quarterly"),
        ("has:attachment", "Quarterly", "Zebedee"),
        (
            "kind:mail from:alice after:2000-01-01",
            "Quarterly",
            "holiday",
        ),
        ("before:2000-01-01", "", "Zebedee"),
        ("\"sunny days\" OR zebedee", "", "Zebedee"),
    ] {
        let path = format!(
            "/?q={}",
            form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
        );
        browser.client.goto(&inbox.url(&path)).await.unwrap();
        browser.text_of("//h1[text()='Arrivals']").await;
        let found = rows(&browser).await;
        assert!(found.contains(wanted), "{q} finds {wanted}: {found}");
        assert!(
            !found.contains(unwanted),
            "{q} leaves out {unwanted}: {found}"
        );
    }
    // One click keeps to a kind.
    browser.client.goto(&inbox.url("/")).await.unwrap();
    browser.click("nav.kinds a[href='/?q=kind%3Amail']").await;
    browser
        .text_of("//nav[@aria-label='Kind']//a[@aria-current='true'][text()='Mail']")
        .await;
    let found = rows(&browser).await;
    assert!(
        found.contains("Quarterly") && !found.contains("Zebedee"),
        "{found}"
    );

    // A submission: its fields as a table and its JSON.
    browser.client.goto(&inbox.url("/")).await.unwrap();
    browser.click("#rows a[href^='/items/submission/']").await;
    let field = browser
        .text_of("//table[contains(@class,'fields')]//tr[th='name']/td")
        .await;
    assert_eq!(field, "Zebedee");
    browser
        .text_of("//pre[contains(., '\"periwinkle\"')]")
        .await;
    let trace = browser
        .client
        .find(Locator::Css("a.trace"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    assert!(
        trace.starts_with("http://jaeger.test:16686/trace/"),
        "{trace}"
    );
    accessible(&browser, "a submission").await;

    // A file: facts, a text preview, a download link.
    browser
        .client
        .goto(&inbox.url("/?q=kind%3Afile"))
        .await
        .unwrap();
    browser.click("#rows a[href^='/items/file/']").await;
    browser
        .text_of("//pre[contains(., 'sunny days at the sea')]")
        .await;
    browser.text_of("//dd/code[text()='text/plain']").await;
    accessible(&browser, "a file").await;

    // A mail: its HTML runs no script and loads nothing remote.
    browser
        .client
        .goto(&inbox.url("/?q=kind%3Amail"))
        .await
        .unwrap();
    browser.click("#rows a[href^='/items/mail/']").await;
    browser
        .text_of("//p[@id='remote-blocked'][contains(., 'Remote content was blocked')]")
        .await;
    browser
        .text_of("//pre[contains(., 'see the attached table')]")
        .await;
    browser.text_of("//a[text()='report.csv']").await;
    accessible(&browser, "a mail").await;
    let title = browser.client.title().await.unwrap();
    assert_eq!(title, "Quarterly figures · Inlet inbox");
    let frame = browser
        .client
        .find(Locator::Css("iframe.html-body"))
        .await
        .unwrap();
    frame.enter_frame().await.unwrap();
    let marker = browser.text_of("//p[@id='marker']").await;
    assert_eq!(marker, "untouched", "the mail's script did not run");
    browser.client.enter_parent_frame().await.unwrap();
    assert_eq!(tracker.count(), 0, "no remote image was fetched");
    // Asked for, remote content loads (so the tracker would have seen it).
    browser.click("#remote-blocked a").await;
    tracker.wait_for_a_hit().await;
    assert_eq!(
        browser.client.title().await.unwrap(),
        "Quarterly figures · Inlet inbox"
    );

    // Delete the submission, with a confirmation.
    browser
        .client
        .goto(&inbox.url("/?q=kind%3Asubmission"))
        .await
        .unwrap();
    browser.click("#rows a[href^='/items/submission/']").await;
    browser.click("a.danger-link").await;
    browser.text_of("//h1[text()='Delete this item?']").await;
    accessible(&browser, "the delete confirmation").await;
    browser.click("button.danger").await;
    browser
        .text_of("//p[@role='status'][text()='Deleted 1 item.']")
        .await;
    let left = rows(&browser).await;
    assert!(
        !left.contains("Zebedee") && left.contains("holiday-notes.txt"),
        "{left}"
    );

    // Signing out: the pages refuse until signing in again.
    browser.click("header form button").await;
    browser.text_of("//h1[text()='Sign in']").await;
    browser
        .client
        .goto(&inbox.url("/?q=kind%3Amail"))
        .await
        .unwrap();
    browser.text_of("//h1[text()='Sign in']").await;
    let url = browser.client.current_url().await.unwrap();
    assert_eq!(url.path(), "/sign-in");
    browser.close().await;
    inbox.stop().await;
}
