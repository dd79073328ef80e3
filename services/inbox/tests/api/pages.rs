//! Signing in, the anti-forgery check, deleting through the inbox, and what
//! a mail's HTML may do — over HTTP, as a browser would send it.

use inlet_testkit::access::{ADMIN_TOKEN, READ_TOKEN};
use inlet_testkit::http::client;
use reqwest::redirect::Policy;

use crate::helpers::{item_path, Inbox, Services};

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .timeout(inlet_testkit::WAIT)
        .build()
        .unwrap()
}

/// A form posted to `path` as a browser posts it from a page of `site`
/// (`same-origin`, `cross-site`), with the session `cookie` when given.
async fn post_form(
    inbox: &Inbox,
    path: &str,
    cookie: Option<&str>,
    site: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = no_redirects()
        .post(inbox.url(path))
        .header("sec-fetch-site", site)
        .form(fields);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.send().await.unwrap()
}

/// `GET path` with the session `cookie`, redirects not followed.
async fn get_as(inbox: &Inbox, path: &str, cookie: &str) -> reqwest::Response {
    no_redirects()
        .get(inbox.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
}

/// Signs in with `token` from the inbox's own page; the cookie pair.
async fn sign_in(inbox: &Inbox, token: &str) -> String {
    let answer = post_form(
        inbox,
        "/sign-in",
        None,
        "same-origin",
        &[("token", token), ("next", "/")],
    )
    .await;
    assert_eq!(answer.status(), 303);
    let cookie = answer.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "not over plain http: {cookie}");
    cookie.split(';').next().unwrap().to_owned()
}

/// The anti-forgery token a page holds.
fn csrf_in(page: &str) -> String {
    let at =
        page.find(r#"name="csrf" value=""#).expect("a csrf field") + r#"name="csrf" value=""#.len();
    page[at..at + 64].to_owned()
}

#[tokio::test]
async fn a_session_is_needed_and_every_change_carries_its_token() {
    let services = Services::start().await;
    let index_dir = tempfile::tempdir().unwrap();
    let inbox = Inbox::start(&services.inbox_env(index_dir.path())).await;
    let mut live = inbox.live().await;
    let first = services.post(r#"{"a":"1"}"#).await;
    let second = services.post(r#"{"b":"2"}"#).await;
    live.rows_with(&[&first, &second]).await;
    let browser = no_redirects();

    // No session: a page sends the reader to sign in, and back after.
    let answer = browser
        .get(inbox.url("/?q=kind%3Amail"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 303);
    assert_eq!(
        answer.headers()["location"],
        "/sign-in?next=%2F%3Fq%3Dkind%253Amail"
    );
    // A wrong token is refused on the page, and a sign-in from another site is refused.
    let wrong = post_form(
        &inbox,
        "/sign-in",
        None,
        "same-origin",
        &[("token", "not-the-token-0123456789"), ("next", "/")],
    )
    .await;
    assert_eq!(wrong.status(), 401);
    assert!(wrong
        .text()
        .await
        .unwrap()
        .contains("not one this inbox accepts"));
    let forced = post_form(
        &inbox,
        "/sign-in",
        None,
        "cross-site",
        &[("token", ADMIN_TOKEN), ("next", "/")],
    )
    .await;
    assert_eq!(forced.status(), 403);
    assert!(forced.headers().get("set-cookie").is_none());

    let cookie = sign_in(&inbox, ADMIN_TOKEN).await;
    let page = get_as(&inbox, "/", &cookie).await;
    assert_eq!(page.status(), 200);
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        policy.contains("default-src 'self'") && policy.contains("frame-ancestors 'none'"),
        "{policy}"
    );
    let page = page.text().await.unwrap();
    assert!(page.contains(&first) && page.contains(&second));
    let csrf = csrf_in(&page);
    let item = format!("submission:{first}");

    // A delete without the token, with another session's, or from another
    // site is refused, and nothing is deleted.
    for (token, site) in [
        ("", "same-origin"),
        (&"0".repeat(64)[..], "same-origin"),
        (csrf.as_str(), "cross-site"),
    ] {
        let refused = post_form(
            &inbox,
            "/delete",
            Some(&cookie),
            site,
            &[("item", item.as_str()), ("csrf", token)],
        )
        .await;
        assert_eq!(refused.status(), 403, "csrf {token:?} from {site}");
    }
    assert_eq!(
        inbox.page(&item_path("submission", &first)).await.0,
        200,
        "still there"
    );

    // The confirmation, then the delete: gone from forms and the inbox.
    let path = format!(
        "/delete?item={}",
        form_urlencoded::byte_serialize(item.as_bytes()).collect::<String>()
    );
    let confirm = get_as(&inbox, &path, &cookie).await;
    assert_eq!(confirm.status(), 200);
    assert!(confirm.text().await.unwrap().contains("Delete this item?"));
    let done = post_form(
        &inbox,
        "/delete",
        Some(&cookie),
        "same-origin",
        &[
            ("item", item.as_str()),
            ("csrf", csrf.as_str()),
            ("back", "/"),
        ],
    )
    .await;
    assert_eq!(done.status(), 303);
    assert_eq!(done.headers()["location"], "/?deleted=1");
    let at_forms = inlet_testkit::http::admin_client()
        .get(format!(
            "{}/submissions/{first}",
            Services::url(&services.forms)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(at_forms.status(), 404, "deleted at forms");
    assert_eq!(inbox.page(&item_path("submission", &first)).await.0, 404);

    // A selection: confirmed as a list, deleted together.
    let third = services.post(r#"{"c":"3"}"#).await;
    let fourth = services.post(r#"{"d":"4"}"#).await;
    live.rows_with(&[&third, &fourth]).await;
    let both = [
        format!("submission:{third}"),
        format!("submission:{fourth}"),
    ];
    let query: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(both.iter().map(|item| ("item", item.as_str())))
        .finish();
    let confirm = get_as(&inbox, &format!("/delete?{query}"), &cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        confirm.contains("Delete these items?") && confirm.contains("Delete 2 items"),
        "{confirm}"
    );
    let done = post_form(
        &inbox,
        "/delete",
        Some(&cookie),
        "same-origin",
        &[
            ("item", both[0].as_str()),
            ("item", both[1].as_str()),
            ("csrf", csrf.as_str()),
        ],
    )
    .await;
    assert_eq!(done.headers()["location"], "/?deleted=2");
    for id in [&third, &fourth] {
        assert_eq!(inbox.page(&item_path("submission", id)).await.0, 404);
    }

    // The read token reads but may not delete.
    let reader = sign_in(&inbox, READ_TOKEN).await;
    let page = get_as(&inbox, "/", &reader).await.text().await.unwrap();
    let reader_csrf = csrf_in(&page);
    let refused = post_form(
        &inbox,
        "/delete",
        Some(&reader),
        "same-origin",
        &[
            ("item", format!("submission:{second}").as_str()),
            ("csrf", reader_csrf.as_str()),
        ],
    )
    .await;
    assert_eq!(refused.status(), 403);

    // Signing out needs the token too, and removes the cookie.
    let out = post_form(
        &inbox,
        "/sign-out",
        Some(&cookie),
        "same-origin",
        &[("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(out.status(), 303);
    let removal = out.headers()["set-cookie"].to_str().unwrap();
    assert!(removal.contains("Max-Age=0"), "{removal}");
    inbox.stop().await;
}

#[tokio::test]
async fn a_mails_html_is_framed_without_scripts_forms_or_remote_content() {
    let services = Services::start().await;
    let index_dir = tempfile::tempdir().unwrap();
    let inbox = Inbox::start(&services.inbox_env(index_dir.path())).await;
    let mut live = inbox.live().await;
    let mail = services
        .mail(
            "dave@example.com",
            "Tracking you",
            "plain words",
            r#"<script>document.title='owned'</script><img src="https://tracker.example/p.gif"><form action="https://x.example"><input></form>"#,
        )
        .await;
    live.rows_with(&[&mail]).await;
    let view = item_path("mail", &mail);
    let (status, page) = inbox.page(&view).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Remote content was blocked (1 reference)"),
        "{page}"
    );
    assert!(
        page.contains(r#"<iframe class="html-body" sandbox="""#),
        "{page}"
    );
    assert!(page.contains("plain words") && page.contains("report.csv"));

    let html = client()
        .get(inbox.url(&format!("{view}/html")))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    let policy = html.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(policy.starts_with("sandbox;"), "{policy}");
    assert!(
        policy.contains("default-src 'none'") && policy.contains("img-src data: cid:;"),
        "{policy}"
    );
    assert!(policy.contains("form-action 'none'"), "{policy}");
    assert!(
        html.text().await.unwrap().contains("tracker.example"),
        "the body is as sent"
    );
    let shown = client()
        .get(inbox.url(&format!("{view}/html?remote=1")))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    let policy = shown.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        policy.contains("img-src data: cid: http: https:"),
        "{policy}"
    );
    assert!(
        policy.starts_with("sandbox;") && !policy.contains("script-src"),
        "{policy}"
    );

    // The source and the attachment come through, never as an inbox page.
    let raw = client()
        .get(inbox.url(&format!("{view}/raw")))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(raw.headers()["content-type"], "text/plain; charset=utf-8");
    assert!(raw.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .starts_with("sandbox"));
    assert!(raw.text().await.unwrap().contains("Subject: Tracking you"));
    let attachment = client()
        .get(inbox.url(&format!("{view}/attachments/0")))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(attachment.status(), 200);
    assert_eq!(attachment.text().await.unwrap(), "a,b\n1,2\n");
    inbox.stop().await;
}
