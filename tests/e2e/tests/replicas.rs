//! The scaled set under a steady mixed load (posts, uploads, mail, all
//! through the balancer) while one replica of each service is killed
//! (`docker kill`) and started again: every acknowledged item is readable
//! afterwards, once, through the read APIs (read twice through the
//! balancer, so each replica answers), and the feed has each once.
//! Run by `tests/e2e/run.sh` with the scaled set's `INLET_E2E_BALANCED_*`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use inlet_testkit::{ws, WAIT};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::net::tcp::OwnedReadHalf;
use tokio_tungstenite::tungstenite::Message;

use crate::http::get_json;
use crate::stack::Stack;

/// What the load was told was stored, by the marker each item carries.
#[derive(Default)]
struct Acknowledged {
    posts: Vec<String>,
    uploads: Vec<String>,
    mails: Vec<String>,
}

/// The balanced ports of the scaled set.
struct Balanced {
    forms: String,
    uploads: String,
    mail: String,
    smtp_port: u16,
    feed: String,
}

impl Balanced {
    fn from_env() -> Self {
        let var = |name: &str| {
            std::env::var(name).unwrap_or_else(|_| panic!("{name}: run tests/e2e/run.sh"))
        };
        Self {
            forms: var("INLET_E2E_BALANCED_FORMS_URL"),
            uploads: var("INLET_E2E_BALANCED_UPLOADS_URL"),
            mail: var("INLET_E2E_BALANCED_MAIL_URL"),
            smtp_port: var("INLET_E2E_BALANCED_SMTP_PORT").parse().unwrap(),
            feed: var("INLET_E2E_BALANCER_URL"),
        }
    }
}

/// One round of the load: a post, an upload and a mail, each marked `n`;
/// records those that were acknowledged.
async fn one_round(
    client: &reqwest::Client,
    to: &Balanced,
    run: &str,
    n: usize,
    acked: &Mutex<Acknowledged>,
) {
    let marker = format!("{run}-{n}");
    let posted = client
        .post(format!("{}/", to.forms))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("marker={marker}"))
        .send()
        .await;
    if posted.is_ok_and(|res| res.status() == 200) {
        acked.lock().unwrap().posts.push(marker.clone());
    }
    let uploaded = client
        .put(format!("{}/", to.uploads))
        .header("x-filename", format!("{marker}.txt"))
        .header("x-field", "load")
        .body(format!("file {marker}"))
        .send()
        .await;
    if uploaded.is_ok_and(|res| res.status() == 200) {
        acked.lock().unwrap().uploads.push(format!("{marker}.txt"));
    }
    if mail(to.smtp_port, &marker).await {
        acked.lock().unwrap().mails.push(marker);
    }
}

/// One message with `subject` through the SMTP balancer; whether it was
/// accepted (250 after the data). A session cut by a kill is not (the
/// testkit's dialogue would panic on it: this one just says no).
async fn mail(port: u16, subject: &str) -> bool {
    let attempt = async {
        let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .ok()?;
        let (read, mut write) = stream.into_split();
        let mut replies = BufReader::new(read).lines();
        (reply_code(&mut replies).await? == 220).then_some(())?;
        let message = format!("Subject: {subject}\r\nFrom: load@load.test\r\n\r\nload\r\n.");
        for (command, expected) in [
            ("ehlo load.test", 250),
            ("mail from:<load@load.test>", 250),
            ("rcpt to:<you@example.com>", 250),
            ("data", 354),
            (message.as_str(), 250),
        ] {
            write
                .write_all(format!("{command}\r\n").as_bytes())
                .await
                .ok()?;
            (reply_code(&mut replies).await? == expected).then_some(())?;
        }
        let _ = write.write_all(b"quit\r\n").await;
        Some(())
    };
    // A reply never read (the replica died mid-reply) is not an acknowledgement.
    matches!(tokio::time::timeout(WAIT, attempt).await, Ok(Some(())))
}

/// The code of the next (possibly multi-line) reply; `None` once the
/// connection ends.
async fn reply_code(replies: &mut Lines<BufReader<OwnedReadHalf>>) -> Option<u16> {
    loop {
        let line = replies.next_line().await.ok()??;
        if line.get(3..4) != Some("-") {
            return line.get(..3)?.parse().ok();
        }
    }
}

/// Every item of a listing, page by page.
async fn list_all(client: &reqwest::Client, url: &str, items: &str) -> Vec<serde_json::Value> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page_url = match &cursor {
            Some(c) => format!("{url}?limit=500&cursor={c}"),
            None => format!("{url}?limit=500"),
        };
        let page: serde_json::Value = get_json(client, &page_url).await;
        all.extend(
            page[items]
                .as_array()
                .unwrap_or_else(|| panic!("{page_url}: {page}"))
                .iter()
                .cloned(),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return all,
        }
    }
}

/// Waits for `service`'s container to report healthy.
async fn wait_healthy(stack: &Stack, service: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let id = stack.compose(&["ps", "-q", service]).await;
        let status = tokio::process::Command::new("docker")
            .args(["inspect", "--format", "{{.State.Health.Status}}", id.trim()])
            .output()
            .await
            .unwrap();
        if String::from_utf8_lossy(&status.stdout).trim() == "healthy" {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{service} is not healthy again"
        );
        // Polling the container's own healthcheck, not a timed guess.
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The feed through the balancer, from the start of the run, reconnecting
/// with `since`/`epoch` whenever its gateway goes; stops when told and the
/// socket has been quiet for a moment.
async fn follow_feed(url: String, token: String, stop: Arc<AtomicBool>) -> Vec<serde_json::Value> {
    let bearer = format!("Bearer {token}");
    let mut frames = Vec::new();
    let (mut since, mut epoch): (Option<u64>, Option<String>) = (None, None);
    loop {
        let target = match (&since, &epoch) {
            (Some(s), Some(e)) => format!("{url}/events?since={s}&epoch={e}"),
            _ => format!("{url}/events"),
        };
        let deadline = tokio::time::Instant::now() + WAIT;
        let mut socket = loop {
            match ws::try_connect(&target, &[("authorization", &bearer)]).await {
                Ok(socket) => break socket,
                Err(status) => {
                    assert!(tokio::time::Instant::now() < deadline, "{target}: {status}");
                    // The balancer has no gateway for a moment: ask again.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        };
        let hello = ws::next_json(&mut socket).await;
        assert_eq!(hello["type"], "subscribed", "{hello}");
        assert_eq!(hello["recovered"], true, "{hello}");
        epoch.get_or_insert_with(|| hello["epoch"].as_str().unwrap().to_owned());
        loop {
            let quiet = if stop.load(Ordering::Relaxed) {
                Duration::from_secs(5)
            } else {
                WAIT
            };
            match tokio::time::timeout(quiet, socket.next()).await {
                Err(_) if stop.load(Ordering::Relaxed) => return frames,
                Err(_) => panic!("the feed went silent under load"),
                Ok(Some(Ok(Message::Text(text)))) => {
                    let frame: serde_json::Value = serde_json::from_str(&text).unwrap();
                    since = frame["sequence"].as_u64().or(since);
                    frames.push(frame);
                }
                Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
                Ok(_) => break,
            }
        }
    }
}

#[tokio::test]
#[ignore = "needs the scaled compose set: run tests/e2e/run.sh"]
async fn killing_one_replica_of_each_service_under_load_loses_no_acknowledged_item() {
    let stack = Stack::from_env();
    let to = Arc::new(Balanced::from_env());
    // Intake needs no credential; short timeouts, so a dead replica costs a round little.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let run = format!("load{}", std::process::id());
    let stop = Arc::new(AtomicBool::new(false));
    let feed = tokio::spawn(follow_feed(
        to.feed.clone(),
        stack.token.clone(),
        Arc::clone(&stop),
    ));

    let acked = Arc::new(Mutex::new(Acknowledged::default()));
    let load = {
        let (client, to, acked, stop, run) = (
            client.clone(),
            Arc::clone(&to),
            Arc::clone(&acked),
            Arc::clone(&stop),
            run.clone(),
        );
        tokio::spawn(async move {
            let mut n = 0;
            // Paced, so each kill lands among rounds: ten a second.
            let mut every = tokio::time::interval(Duration::from_millis(100));
            while !stop.load(Ordering::Relaxed) {
                every.tick().await;
                one_round(&client, &to, &run, n, &acked).await;
                n += 1;
            }
            n
        })
    };
    for service in ["forms-2", "uploads-2", "smtp-2", "gateway-2"] {
        stack.compose(&["kill", service]).await;
        let before = acked.lock().unwrap().posts.len();
        // The load goes on with one replica: wait until it has acknowledged more.
        let deadline = tokio::time::Instant::now() + WAIT;
        while acked.lock().unwrap().posts.len() < before + 5 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the load stalled without {service}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        stack.compose(&["start", service]).await;
        wait_healthy(&stack, service).await;
    }
    stop.store(true, Ordering::Relaxed);
    let rounds = load.await.unwrap();
    let frames = feed.await.unwrap();
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    eprintln!(
        "e2e: {rounds} rounds; acknowledged {} posts, {} uploads, {} mails; {} events",
        acked.posts.len(),
        acked.uploads.len(),
        acked.mails.len(),
        frames.len()
    );
    assert!(acked.posts.len() > 20 && acked.uploads.len() > 20 && acked.mails.len() > 20);

    // Read twice through the balancer: round robin asks each replica.
    let reader = client_with(&stack);
    let mut first_read: Option<[HashMap<String, String>; 3]> = None;
    for _ in 0..2 {
        let submissions =
            list_all(&reader, &format!("{}/submissions", to.forms), "submissions").await;
        let files = list_all(&reader, &format!("{}/files", to.uploads), "files").await;
        let messages = list_all(&reader, &format!("{}/messages", to.mail), "messages").await;
        // marker → id, each marker's items counted.
        let read = [
            ids_by_marker(&submissions, |s| &s["fields"]["marker"], "id"),
            ids_by_marker(&files, |f| &f["original_name"], "name"),
            ids_by_marker(&messages, |m| &m["subject"], "id"),
        ];
        let acknowledged = [&acked.posts, &acked.uploads, &acked.mails];
        for (stored, markers) in read.iter().zip(acknowledged) {
            for marker in markers {
                assert!(
                    stored.contains_key(marker),
                    "{marker}: acknowledged, so stored"
                );
            }
        }
        match &first_read {
            None => first_read = Some(read),
            Some(first) => assert_eq!(first, &read, "both replicas list the same items"),
        }
    }

    // The feed has every acknowledged item once, and nothing twice.
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    for frame in &frames {
        let data = &frame["data"];
        let keys: Vec<String> = match frame["kind"].as_str() {
            Some("form_submitted") => vec![data["submission_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned()],
            Some("file_stored") => {
                vec![data["stored_name"].as_str().unwrap_or_default().to_owned()]
            }
            Some("mail_received") => data["message_ids"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => vec![],
        };
        for key in keys {
            *seen
                .entry((frame["kind"].as_str().unwrap().to_owned(), key))
                .or_insert(0) += 1;
        }
    }
    let duplicates: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(duplicates.is_empty(), "events twice: {duplicates:?}");
    let [posts, files, mails] = first_read.unwrap();
    for (kind, acknowledged, ids) in [
        ("form_submitted", &acked.posts, &posts),
        ("file_stored", &acked.uploads, &files),
        ("mail_received", &acked.mails, &mails),
    ] {
        for marker in acknowledged {
            let id = &ids[marker];
            assert_eq!(
                seen.get(&(kind.to_owned(), id.clone())),
                Some(&1),
                "{kind} {marker} ({id}): on the feed once"
            );
        }
    }
}

/// marker → id of a listing's items; panics on a marker stored twice.
fn ids_by_marker(
    listing: &[serde_json::Value],
    marker_of: impl Fn(&serde_json::Value) -> &serde_json::Value,
    id_key: &str,
) -> HashMap<String, String> {
    let mut ids = HashMap::new();
    for item in listing {
        let (Some(marker), Some(id)) = (marker_of(item).as_str(), item[id_key].as_str()) else {
            continue;
        };
        let earlier = ids.insert(marker.to_owned(), id.to_owned());
        assert!(
            earlier.is_none(),
            "{marker} stored twice: {earlier:?} and {id}"
        );
    }
    ids
}

/// A client that reads with the stack's credential.
fn client_with(stack: &Stack) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {}", stack.token).parse().unwrap(),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .timeout(WAIT)
        .build()
        .unwrap()
}
