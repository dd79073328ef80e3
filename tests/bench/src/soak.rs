//! `inlet-bench soak`: a steady mixed load for `--minutes` against running
//! services — form posts, PUT uploads, WebSocket chat on `/echo`, event
//! subscribers, and mail — while the resident memory, open descriptors and
//! threads of each service are sampled every `--sample-seconds`. At the end
//! it checks that every acknowledged item is on disk under `--data-dir`,
//! and that after the warm-up (the first fifth of the run) no sample grew
//! by more than 10% over the warm-up's last. One JSON line per sample, then
//! the verdict; exit 1 if any check failed.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

/// Options of `inlet-bench soak`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// forms, e.g. `http://127.0.0.1:8080`.
    #[arg(long)]
    forms: String,
    /// uploads, e.g. `http://127.0.0.1:8081`.
    #[arg(long)]
    uploads: String,
    /// The gateway, e.g. `ws://127.0.0.1:8082`.
    #[arg(long)]
    gateway: String,
    /// smtp, e.g. `127.0.0.1:2525`.
    #[arg(long)]
    smtp: String,
    /// The services' shared data folder, to find what was acknowledged.
    #[arg(long)]
    data_dir: PathBuf,
    /// `name=pid` of each service to sample (repeat).
    #[arg(long = "pid", value_parser = parse_pid)]
    pids: Vec<(String, u32)>,
    /// How long the load runs.
    #[arg(long, default_value_t = 30.0)]
    minutes: f64,
    /// Time between samples.
    #[arg(long, default_value_t = 10)]
    sample_seconds: u64,
}

fn parse_pid(text: &str) -> Result<(String, u32), String> {
    let (name, pid) = text.split_once('=').ok_or("expected name=pid")?;
    Ok((name.to_owned(), pid.parse().map_err(|_| "pid is a number")?))
}

/// One sample of one service.
#[derive(Debug, Clone, Serialize)]
struct Sample {
    second: u64,
    service: String,
    rss_kib: u64,
    fds: u64,
    threads: u64,
}

/// What the load did.
#[derive(Debug, Default)]
struct Counts {
    posts: AtomicU64,
    uploads: AtomicU64,
    echoes: AtomicU64,
    events: AtomicU64,
    mails: AtomicU64,
    failures: AtomicU64,
}

/// The verdict line.
#[derive(Debug, Serialize)]
struct Verdict {
    minutes: f64,
    posts: u64,
    uploads: u64,
    echoes: u64,
    events_seen: u64,
    mails: u64,
    failed_requests: u64,
    missing_items: usize,
    growth: Vec<Growth>,
    passed: bool,
}

/// How much one measure of one service grew after the warm-up.
#[derive(Debug, Serialize)]
struct Growth {
    service: String,
    measure: &'static str,
    after_warmup: u64,
    max_later: u64,
    percent: f64,
}

/// Runs the soak; `Ok(true)` when every check passed.
pub async fn run(args: Args) -> Result<bool, String> {
    let counts = Arc::new(Counts::default());
    let deadline = Instant::now() + Duration::from_secs_f64(args.minutes * 60.0);
    let acked_posts = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let acked_files = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let acked_mail = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut tasks = Vec::new();
    tasks.push(tokio::spawn(post_forms(
        args.forms.clone(),
        deadline,
        Arc::clone(&counts),
        Arc::clone(&acked_posts),
    )));
    tasks.push(tokio::spawn(put_uploads(
        args.uploads.clone(),
        deadline,
        Arc::clone(&counts),
        Arc::clone(&acked_files),
    )));
    for _ in 0..4 {
        tasks.push(tokio::spawn(chat(
            format!("{}/echo", args.gateway),
            deadline,
            Arc::clone(&counts),
        )));
    }
    for _ in 0..2 {
        tasks.push(tokio::spawn(subscribe(
            format!("{}/events", args.gateway),
            deadline,
            Arc::clone(&counts),
        )));
    }
    tasks.push(tokio::spawn(send_mail(
        args.smtp.clone(),
        deadline,
        Arc::clone(&counts),
        Arc::clone(&acked_mail),
    )));

    let started = Instant::now();
    let mut samples = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_secs(args.sample_seconds));
    while Instant::now() < deadline {
        tick.tick().await;
        let second = started.elapsed().as_secs();
        for (service, pid) in &args.pids {
            let sample = sample(service, *pid, second)
                .ok_or_else(|| format!("{service} (pid {pid}) is gone"))?;
            println!("{}", serde_json::to_string(&sample).expect("serialises"));
            samples.push(sample);
        }
    }
    for task in tasks {
        let _ = task.await;
    }

    let posts = acked_posts.lock().expect("lock").clone();
    let files = acked_files.lock().expect("lock").clone();
    let mails = acked_mail.lock().expect("lock").clone();
    let missing = missing_items(&args.data_dir, &posts, &files, &mails);
    for item in missing.iter().take(20) {
        eprintln!("missing: {item}");
    }
    let warmup = (args.minutes * 60.0 / 5.0) as u64;
    let growth = growth(&samples, warmup);
    let failures = counts.failures.load(Ordering::Relaxed);
    let passed = failures == 0 && missing.is_empty() && growth.iter().all(|g| g.percent <= 10.0);
    let verdict = Verdict {
        minutes: args.minutes,
        posts: counts.posts.load(Ordering::Relaxed),
        uploads: counts.uploads.load(Ordering::Relaxed),
        echoes: counts.echoes.load(Ordering::Relaxed),
        events_seen: counts.events.load(Ordering::Relaxed),
        mails: counts.mails.load(Ordering::Relaxed),
        failed_requests: failures,
        missing_items: missing.len(),
        growth,
        passed,
    };
    println!("{}", serde_json::to_string(&verdict).expect("serialises"));
    Ok(passed)
}

/// RSS, descriptors and threads of `pid` now.
fn sample(service: &str, pid: u32, second: u64) -> Option<Sample> {
    let status = crate::rss::status(pid)?;
    let field = |name: &str| crate::rss::field(&status, name);
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count() as u64;
    Some(Sample {
        second,
        service: service.to_owned(),
        rss_kib: field("VmRSS:")?,
        fds,
        threads: field("Threads:")?,
    })
}

/// A measure's name, how to read it from a sample, and its slack.
type Measure = (&'static str, fn(&Sample) -> u64, u64);

/// For each service and measure: the last value of the warm-up against the
/// largest after it. Descriptors and threads get a slack of 2 (a blocking
/// pool thread, a socket being closed).
fn growth(samples: &[Sample], warmup: u64) -> Vec<Growth> {
    let services: Vec<String> = samples
        .iter()
        .map(|s| s.service.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut out = Vec::new();
    for service in services {
        let of: Vec<&Sample> = samples.iter().filter(|s| s.service == service).collect();
        let Some(base) = of.iter().rev().find(|s| s.second <= warmup) else {
            continue;
        };
        let later: Vec<&&Sample> = of.iter().filter(|s| s.second > warmup).collect();
        let measures: [Measure; 3] = [
            ("rss_kib", |s| s.rss_kib, 0),
            ("fds", |s| s.fds, 2),
            ("threads", |s| s.threads, 2),
        ];
        for (measure, get, slack) in measures {
            let after_warmup = get(base);
            let max_later = later.iter().map(|s| get(s)).max().unwrap_or(after_warmup);
            let grown = max_later.saturating_sub(after_warmup + slack);
            out.push(Growth {
                service: service.clone(),
                measure,
                after_warmup,
                max_later,
                percent: 100.0 * grown as f64 / after_warmup.max(1) as f64,
            });
        }
    }
    out
}

/// Every acknowledged item that is not on disk.
fn missing_items(data: &Path, posts: &[String], files: &[String], mails: &[String]) -> Vec<String> {
    let journal: String = files_in(&data.join("forms/journal"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .map(|p| std::fs::read_to_string(p).unwrap_or_default())
        .collect();
    let stored_files: HashSet<String> = files_in(&data.join("uploads"))
        .into_iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    let mail: String = files_in(&data.join("mail/you/new"))
        .into_iter()
        .map(|p| String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned())
        .collect();
    let mut missing = Vec::new();
    missing.extend(
        posts
            .iter()
            .filter(|m| !journal.contains(m.as_str()))
            .map(|m| format!("post {m}")),
    );
    missing.extend(
        files
            .iter()
            .filter(|f| !stored_files.iter().any(|s| s.ends_with(f.as_str())))
            .map(|f| format!("file {f}")),
    );
    missing.extend(
        mails
            .iter()
            .filter(|m| !mail.contains(m.as_str()))
            .map(|m| format!("mail {m}")),
    );
    missing
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default()
}

fn fail(counts: &Counts, what: &str, why: impl std::fmt::Display) {
    counts.failures.fetch_add(1, Ordering::Relaxed);
    eprintln!("failed: {what}: {why}");
}

/// A form post every 20 ms, each with its own marker.
async fn post_forms(
    url: String,
    deadline: Instant,
    counts: Arc<Counts>,
    acked: Arc<std::sync::Mutex<Vec<String>>>,
) {
    let client = reqwest::Client::new();
    let mut every = tokio::time::interval(Duration::from_millis(20));
    let mut n = 0u64;
    while Instant::now() < deadline {
        every.tick().await;
        n += 1;
        let marker = format!("soakpost{n}x");
        let sent = client
            .post(format!("{url}/"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("name={marker}&message=steady+load"))
            .send()
            .await;
        match sent {
            Ok(res) if res.status() == 200 => {
                counts.posts.fetch_add(1, Ordering::Relaxed);
                acked.lock().expect("lock").push(marker);
            }
            Ok(res) => fail(&counts, "post", res.status()),
            Err(err) => fail(&counts, "post", err),
        }
    }
}

/// A 64 KiB PUT every 100 ms.
async fn put_uploads(
    url: String,
    deadline: Instant,
    counts: Arc<Counts>,
    acked: Arc<std::sync::Mutex<Vec<String>>>,
) {
    let client = reqwest::Client::new();
    let body: Vec<u8> = (0..64 * 1024).map(|i| (i * 31 % 251) as u8).collect();
    let mut every = tokio::time::interval(Duration::from_millis(100));
    let mut n = 0u64;
    while Instant::now() < deadline {
        every.tick().await;
        n += 1;
        let name = format!("soak{n}.bin");
        let sent = client
            .put(format!("{url}/"))
            .header("x-field", "soak")
            .header("x-filename", &name)
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(res) if res.status() == 200 => {
                counts.uploads.fetch_add(1, Ordering::Relaxed);
                acked.lock().expect("lock").push(format!("-{name}"));
            }
            Ok(res) => fail(&counts, "upload", res.status()),
            Err(err) => fail(&counts, "upload", err),
        }
    }
}

/// One socket on `/echo`: a message every 50 ms, each echoed.
async fn chat(url: String, deadline: Instant, counts: Arc<Counts>) {
    let (mut socket, _) = match tokio_tungstenite::connect_async(&url).await {
        Ok(opened) => opened,
        Err(err) => return fail(&counts, "chat connect", err),
    };
    let mut every = tokio::time::interval(Duration::from_millis(50));
    let mut n = 0u64;
    while Instant::now() < deadline {
        every.tick().await;
        n += 1;
        let text = format!("soak chat {n}");
        if let Err(err) = socket.send(Message::text(text.clone())).await {
            return fail(&counts, "chat send", err);
        }
        loop {
            match tokio::time::timeout(Duration::from_secs(10), socket.next()).await {
                Ok(Some(Ok(Message::Text(echo)))) if echo.as_str() == text => {
                    counts.echoes.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
                other => return fail(&counts, "chat echo", format!("{other:?}")),
            }
        }
    }
    let _ = socket.close(None).await;
}

/// A subscriber to every topic, counting events until the end.
async fn subscribe(url: String, deadline: Instant, counts: Arc<Counts>) {
    let request = match crate::credentials::ws_request(&url) {
        Ok(request) => request,
        Err(err) => return fail(&counts, "subscribe", err),
    };
    let (mut socket, _) = match tokio_tungstenite::connect_async(request).await {
        Ok(opened) => opened,
        Err(err) => return fail(&counts, "subscribe", err),
    };
    while Instant::now() < deadline {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, socket.next()).await {
            Err(_) => break,
            Ok(Some(Ok(Message::Text(text)))) if text.contains(r#""type":"event""#) => {
                counts.events.fetch_add(1, Ordering::Relaxed);
            }
            Ok(Some(Ok(_))) => {}
            other => return fail(&counts, "subscriber", format!("{other:?}")),
        }
    }
    let _ = socket.close(None).await;
}

/// One SMTP session every 200 ms, one message each.
async fn send_mail(
    address: String,
    deadline: Instant,
    counts: Arc<Counts>,
    acked: Arc<std::sync::Mutex<Vec<String>>>,
) {
    let mut every = tokio::time::interval(Duration::from_millis(200));
    let mut n = 0u64;
    while Instant::now() < deadline {
        every.tick().await;
        n += 1;
        let marker = format!("soakmail{n}x");
        match one_mail(&address, &marker).await {
            Ok(()) => {
                counts.mails.fetch_add(1, Ordering::Relaxed);
                acked.lock().expect("lock").push(marker);
            }
            Err(err) => fail(&counts, "mail", err),
        }
    }
}

async fn one_mail(address: &str, marker: &str) -> Result<(), String> {
    let stream = TcpStream::connect(address)
        .await
        .map_err(|e| e.to_string())?;
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let mut expect = async |code: &str| -> Result<(), String> {
        loop {
            let mut line = String::new();
            read.read_line(&mut line).await.map_err(|e| e.to_string())?;
            if !line.starts_with(code) {
                return Err(format!("expected {code}, got {line:?}"));
            }
            if line.as_bytes().get(3) != Some(&b'-') {
                return Ok(());
            }
        }
    };
    expect("220").await?;
    let steps: [(String, &str); 5] = [
        ("EHLO soak\r\n".into(), "250"),
        ("MAIL FROM:<soak@example.com>\r\n".into(), "250"),
        ("RCPT TO:<you@example.com>\r\n".into(), "250"),
        ("DATA\r\n".into(), "354"),
        (format!("Subject: soak\r\n\r\n{marker}\r\n.\r\n"), "250"),
    ];
    for (line, code) in steps {
        write
            .write_all(line.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        expect(code).await?;
    }
    write
        .write_all(b"QUIT\r\n")
        .await
        .map_err(|e| e.to_string())?;
    expect("221").await
}
