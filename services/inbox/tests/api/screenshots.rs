//! The README's screenshots of the inbox (the list, a search, a mail), in
//! light and dark: `INLET_SCREENSHOTS=docs/screenshots cargo nextest run
//! -p inlet-inbox --run-ignored only screenshots`. Not a check; a tool.

use fantoccini::Locator;
use inlet_testkit::access::ADMIN_TOKEN;
use inlet_testkit::browser::Browser;

use crate::helpers::{Inbox, Services};

#[tokio::test]
#[ignore = "makes the README's screenshots: set INLET_SCREENSHOTS to a folder"]
async fn screenshots() {
    let Ok(folder) = std::env::var("INLET_SCREENSHOTS") else {
        panic!("set INLET_SCREENSHOTS to the folder to write them to");
    };
    let folder = std::path::PathBuf::from(folder);
    std::fs::create_dir_all(&folder).unwrap();
    let services = Services::start().await;
    let index_dir = tempfile::tempdir().unwrap();
    let inbox = Inbox::start(&services.inbox_env(index_dir.path())).await;
    let mut live = inbox.live().await;
    let ids = [
        services.post(r#"{"name":"Ada Lovelace","topic":"analytical engines","reply":"yes"}"#).await,
        services.upload("quarterly-figures.csv", b"quarter,total\nQ3,1204\nQ4,1390\n").await,
        services
            .mail(
                "Grace Hopper <grace@example.com>",
                "Compiler notes for Tuesday",
                "The notes are attached.",
                "<h1>Compiler notes</h1><p>The notes are <b>attached</b>.</p><img src=\"https://tracker.example/p.gif\">",
            )
            .await,
        services.post(r#"{"name":"Alan Turing","topic":"morphogenesis"}"#).await,
        services.plain_mail("edsger@example.org", "On the cruelty of really teaching", "A short note.").await,
        services.upload("holiday-photo-list.txt", b"beach\nmountains\n").await,
    ];
    let wanted: Vec<&str> = ids.iter().map(String::as_str).collect();
    live.rows_with(&wanted).await;
    for (scheme, args) in [("light", &[][..]), ("dark", &["--force-dark-mode"][..])] {
        let browser = Browser::start_with(args).await;
        browser.client.set_window_size(1100, 900).await.unwrap();
        browser.client.goto(&inbox.url("/sign-in")).await.unwrap();
        browser.type_into("#token", ADMIN_TOKEN).await;
        browser.click("form button[type=submit]").await;
        browser.text_of("//h1[text()='Arrivals']").await;
        shot(&browser, &folder.join(format!("inbox-list-{scheme}.png"))).await;
        browser
            .client
            .goto(&inbox.url("/?q=kind%3Amail+from%3Agrace"))
            .await
            .unwrap();
        browser.text_of("//h1[text()='Arrivals']").await;
        shot(&browser, &folder.join(format!("inbox-search-{scheme}.png"))).await;
        browser
            .client
            .goto(&inbox.url("/?q=kind%3Amail+compiler"))
            .await
            .unwrap();
        browser.click("#rows a[href^='/items/mail/']").await;
        browser.text_of("//p[@id='remote-blocked']").await;
        shot(&browser, &folder.join(format!("inbox-mail-{scheme}.png"))).await;
        browser.close().await;
    }
    inbox.stop().await;
}

async fn shot(browser: &Browser, path: &std::path::Path) {
    browser.client.find(Locator::Css("main")).await.unwrap();
    let png = browser.client.screenshot().await.unwrap();
    std::fs::write(path, png).unwrap();
}
