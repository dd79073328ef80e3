//! The index follows the services: arrivals come live, deletions leave,
//! a deleted index is rebuilt, a restarted inbox catches up.

use inlet_testkit::http::admin_client;

use crate::helpers::{item_path, Inbox, Services};

#[tokio::test]
async fn arrivals_of_every_kind_come_live_and_each_operator_finds_them() {
    let services = Services::start().await;
    let index_dir = tempfile::tempdir().unwrap();
    let inbox = Inbox::start(&services.inbox_env(index_dir.path())).await;
    let mut live = inbox.live().await;

    let submission = services
        .post(r#"{"name":"Zebedee","note":"periwinkle"}"#)
        .await;
    let file = services.upload("holiday-notes.txt", b"sunny days").await;
    let mail = services
        .mail(
            "Alice Example <alice@example.com>",
            "Quarterly figures",
            "see the attached table",
            "<p>see the <b>attached</b> table</p>",
        )
        .await;
    let plain = services
        .plain_mail("bob@example.org", "Lunch", "noodles?")
        .await;
    live.rows_with(&[&submission, &file, &mail, &plain]).await;

    let found = |page: &str, id: &str| page.contains(&format!("{}\"", item_path_attr(id)));
    let everything = inbox.search("").await;
    for id in [&submission, &file, &mail, &plain] {
        assert!(found(&everything, id), "{id} listed");
    }
    // Newest first: the last mail is above the first post.
    assert!(everything.find(&plain).unwrap() < everything.find(&submission).unwrap());

    let cases: [(&str, &[&String], &[&String]); 12] = [
        ("periwinkle", &[&submission], &[&file, &mail]),
        ("zebe", &[&submission], &[&mail]),
        ("kind:mail", &[&mail, &plain], &[&submission, &file]),
        ("-kind:mail", &[&submission, &file], &[&mail]),
        ("from:alice@example.com", &[&mail], &[&plain]),
        ("to:you", &[&mail, &plain], &[&file]),
        ("subject:\"quarterly figures\"", &[&mail], &[&plain]),
        ("mailbox:you", &[&mail, &plain], &[&submission]),
        ("name:holiday", &[&file], &[&mail]),
        ("has:attachment", &[&mail], &[&plain, &file]),
        ("kind:mail from:bob after:2000-01-01", &[&plain], &[&mail]),
        (
            "before:2000-01-01",
            &[],
            &[&submission, &file, &mail, &plain],
        ),
    ];
    for (q, wanted, unwanted) in cases {
        let page = inbox.search(q).await;
        for id in wanted {
            assert!(found(&page, id), "{q} finds {id}");
        }
        for id in unwanted {
            assert!(!found(&page, id), "{q} leaves out {id}");
        }
    }
    // trace: finds the item by the trace that stored it.
    let listed = inlet_testkit::http::get_json_as_admin(&format!(
        "{}/submissions?limit=1",
        Services::url(&services.forms)
    ))
    .await;
    let trace = listed["submissions"][0]["trace_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if !trace.is_empty() {
        let page = inbox.search(&format!("trace:{}", &trace[..12])).await;
        assert!(found(&page, &submission), "trace: finds the submission");
        assert!(!found(&page, &mail));
    }
    // A search the inbox cannot read says why, as a 400 page.
    let (status, text) = inbox.page("/?q=kind%3Afax").await;
    assert_eq!(status, 400);
    assert!(text.contains("kind:fax is not a kind"), "{text}");
    inbox.stop().await;
}

/// The `href` of an item's link, as the list writes it.
fn item_path_attr(id: &str) -> String {
    percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[tokio::test]
async fn deletions_elsewhere_leave_at_once_and_a_lost_index_is_rebuilt() {
    let services = Services::start().await;
    let index_dir = tempfile::tempdir().unwrap();
    let env = services.inbox_env(index_dir.path());
    let inbox = Inbox::start(&env).await;
    let mut live = inbox.live().await;
    let kept = services.post(r#"{"keep":"me"}"#).await;
    let file = services.upload("gone.txt", b"bye").await;
    let mail = services
        .plain_mail("carol@example.com", "Delete me", "x")
        .await;
    live.rows_with(&[&kept, &file, &mail]).await;

    // Deleted at the services, not through the inbox: the feed says so.
    for url in [
        format!("{}/files/{file}", Services::url(&services.uploads)),
        format!("{}/messages/{mail}", Services::url(&services.smtp)),
    ] {
        let answer = admin_client().delete(&url).send().await.unwrap();
        assert_eq!(answer.status(), 204, "{url}");
    }
    live.removed(&format!("file:{file}")).await;
    live.removed(&format!("mail:{mail}")).await;
    let (status, _) = inbox.page(&item_path("file", &file)).await;
    assert_eq!(status, 404, "a deleted file's page is gone");
    assert!(!inbox.search("").await.contains(&mail));
    inbox.stop().await;

    // The index is deleted while the inbox is down, and one more post
    // arrives: a new index is built from the services' lists.
    std::fs::remove_dir_all(index_dir.path().join("inbox")).unwrap();
    let later = services.post(r#"{"while":"down"}"#).await;
    let inbox = Inbox::start(&env).await;
    let page = inbox.search("").await;
    assert!(
        page.contains(&kept) && page.contains(&later),
        "rebuilt from the lists"
    );
    assert!(
        !page.contains(&file) && !page.contains(&mail),
        "nothing deleted comes back"
    );
    let metrics = inbox.page("/metrics").await.1;
    assert!(
        metrics.contains("inlet_inbox_rebuilds_total 1"),
        "{metrics}"
    );
    inbox.stop().await;

    // Kept index: a restart catches up with what came while it was down.
    let after_restart = services.post(r#"{"after":"restart"}"#).await;
    let inbox = Inbox::start(&env).await;
    assert!(inbox.search("").await.contains(&after_restart));
    let metrics = inbox.page("/metrics").await.1;
    assert!(
        metrics.contains("inlet_inbox_rebuilds_total 0"),
        "a kept index is not rebuilt: {metrics}"
    );
    inbox.stop().await;
}
