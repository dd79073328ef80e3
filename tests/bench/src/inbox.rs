//! `inlet-bench inbox-fill | inbox-search | inbox-live`: the web inbox's
//! numbers, with every item generated through the real services.
//!
//! - `inbox-fill` stores a mix of submissions, files and mail through forms,
//!   uploads and smtp, with words drawn from small vocabularies so searches
//!   find realistic shares of them.
//! - `inbox-search` asks the inbox for a page of a search, one request at a
//!   time, and reports the latency quantiles.
//! - `inbox-live` follows an open inbox's live stream while arrivals come at
//!   a fixed rate, and reports the time from each arrival's 200 (or 250) to
//!   its row reaching the page.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::report::quantile_ms;
use crate::rss::rss_and_peak;

/// Words a generated item is made of.
pub const CITIES: [&str; 50] = [
    "aberdeen",
    "bergen",
    "cadiz",
    "dublin",
    "essen",
    "faro",
    "galway",
    "hull",
    "ibiza",
    "jena",
    "kiel",
    "leeds",
    "lyon",
    "malmo",
    "nantes",
    "oslo",
    "porto",
    "quimper",
    "riga",
    "sligo",
    "turin",
    "ulm",
    "vigo",
    "wells",
    "york",
    "zadar",
    "arles",
    "bruges",
    "cork",
    "delft",
    "evora",
    "fulda",
    "genoa",
    "haarlem",
    "innsbruck",
    "jaen",
    "kassel",
    "lille",
    "mainz",
    "nice",
    "olomouc",
    "padua",
    "reims",
    "split",
    "tartu",
    "utrecht",
    "verona",
    "wroclaw",
    "xanten",
    "zug",
];

/// Senders of generated mail.
pub const SENDERS: [&str; 20] = [
    "alice", "bruno", "chloe", "dmitri", "esme", "farid", "greta", "hugo", "ines", "jonas",
    "kaori", "liam", "mira", "nils", "olga", "pavel", "quinn", "rosa", "sven", "tara",
];

const WORDS: [&str; 16] = [
    "invoice", "meeting", "holiday", "report", "draft", "budget", "photo", "contract", "order",
    "ticket", "review", "summary", "agenda", "notes", "offer", "receipt",
];

/// A deterministic word for item `n` from `list` (the same run, the same items).
fn pick<'a>(list: &[&'a str], n: usize, salt: usize) -> &'a str {
    let mixed = (n.wrapping_mul(2_654_435_761) ^ salt.wrapping_mul(40_503)) % list.len();
    list[mixed]
}

/// Options of `inlet-bench inbox-fill`.
#[derive(Debug, clap::Args)]
pub struct FillArgs {
    /// forms' base URL.
    #[arg(long)]
    forms: String,
    /// uploads' base URL.
    #[arg(long)]
    uploads: String,
    /// smtp's SMTP address, e.g. `127.0.0.1:2525`.
    #[arg(long)]
    smtp: String,
    /// Items in all, split 60 % submissions, 20 % files, 20 % mail.
    #[arg(long, default_value_t = 100_000)]
    items: usize,
    /// Concurrent clients per kind.
    #[arg(long, default_value_t = 16)]
    connections: usize,
}

/// What a fill stored.
#[derive(Debug, Serialize)]
pub struct FillReport {
    protocol: &'static str,
    submissions: usize,
    files: usize,
    mails: usize,
    errors: usize,
    seconds: f64,
}

/// Stores the items, every kind at once.
pub async fn fill(args: FillArgs) -> Result<FillReport, String> {
    let started = Instant::now();
    let (submissions, files) = (args.items * 6 / 10, args.items * 2 / 10);
    let mails = args.items - submissions - files;
    let errors = Arc::new(AtomicUsize::new(0));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.connections)
        .build()
        .map_err(|e| e.to_string())?;
    let mut tasks = Vec::new();
    for worker in 0..args.connections {
        let (client, errors, forms, uploads) = (
            client.clone(),
            Arc::clone(&errors),
            args.forms.clone(),
            args.uploads.clone(),
        );
        let connections = args.connections;
        tasks.push(tokio::spawn(async move {
            for n in (worker..submissions).step_by(connections) {
                let body = serde_json::json!({
                    "name": pick(&SENDERS, n, 1),
                    "city": pick(&CITIES, n, 2),
                    "note": format!("{} {} {}", pick(&WORDS, n, 3), pick(&WORDS, n, 4), pick(&CITIES, n, 5)),
                    "n": n,
                });
                let sent = client.post(format!("{forms}/")).json(&body).send().await;
                if !sent.is_ok_and(|r| r.status().is_success()) {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
            for n in (worker..files).step_by(connections) {
                let name = format!("{}-{}-{n}.txt", pick(&WORDS, n, 6), pick(&CITIES, n, 7));
                let sent = client
                    .put(format!("{uploads}/"))
                    .header("x-filename", name)
                    .header("x-field", "userfile1")
                    .body(format!("{} {}\n", pick(&WORDS, n, 8), pick(&CITIES, n, 9)))
                    .send()
                    .await;
                if !sent.is_ok_and(|r| r.status().is_success()) {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for worker in 0..args.connections {
        let (smtp, errors) = (args.smtp.clone(), Arc::clone(&errors));
        let connections = args.connections;
        tasks.push(tokio::spawn(async move {
            let numbers: Vec<usize> = (worker..mails).step_by(connections).collect();
            if let Err(err) = send_mails(&smtp, &numbers).await {
                eprintln!("inbox-fill: mail: {err}");
                errors.fetch_add(numbers.len(), Ordering::Relaxed);
            }
        }));
    }
    for task in tasks {
        task.await.map_err(|e| e.to_string())?;
    }
    Ok(FillReport {
        protocol: "inbox-fill",
        submissions,
        files,
        mails,
        errors: errors.load(Ordering::Relaxed),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// One SMTP session sending the mails numbered `numbers`.
async fn send_mails(address: &str, numbers: &[usize]) -> Result<(), String> {
    let stream = TcpStream::connect(address)
        .await
        .map_err(|e| e.to_string())?;
    let mut session = Smtp(BufReader::new(stream));
    session.expect(220).await?;
    session.command("EHLO bench.local", 250).await?;
    for &n in numbers {
        let sender = format!("{}@example.org", pick(&SENDERS, n, 10));
        let to = if n % 3 == 0 {
            "another@example.com"
        } else {
            "you@example.com"
        };
        let subject = format!("{} for {} {n}", pick(&WORDS, n, 11), pick(&CITIES, n, 12));
        session
            .command(&format!("MAIL FROM:<{sender}>"), 250)
            .await?;
        session.command(&format!("RCPT TO:<{to}>"), 250).await?;
        session.command("DATA", 354).await?;
        let body = format!(
            "From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <bench-{n}@bench.local>\r\n\r\n{} {} {}\r\n.\r\n",
            pick(&WORDS, n, 13),
            pick(&CITIES, n, 14),
            pick(&WORDS, n, 15)
        );
        session.send(body.as_bytes()).await?;
        session.expect(250).await?;
    }
    session.command("QUIT", 221).await
}

/// A plain SMTP dialogue, one command at a time.
struct Smtp(BufReader<TcpStream>);

impl Smtp {
    async fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.0
            .get_mut()
            .write_all(bytes)
            .await
            .map_err(|e| e.to_string())
    }

    async fn command(&mut self, line: &str, code: u16) -> Result<(), String> {
        self.send(format!("{line}\r\n").as_bytes()).await?;
        self.expect(code).await
    }

    /// Reads one reply (every line of it) and checks its code.
    async fn expect(&mut self, code: u16) -> Result<(), String> {
        loop {
            let mut line = String::new();
            if self
                .0
                .read_line(&mut line)
                .await
                .map_err(|e| e.to_string())?
                == 0
            {
                return Err("the server closed the session".into());
            }
            if line.len() >= 4 && line.as_bytes()[3] == b'-' {
                continue;
            }
            return match line.get(..3).and_then(|c| c.parse::<u16>().ok()) {
                Some(got) if got == code => Ok(()),
                _ => Err(format!("expected {code}, got {}", line.trim_end())),
            };
        }
    }
}

/// Options of `inlet-bench inbox-search`.
#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    /// The inbox's base URL.
    inbox: String,
    /// The search, as typed in the box (empty: the first page of the list).
    #[arg(long, default_value = "")]
    query: String,
    /// Requests, one at a time.
    #[arg(long, default_value_t = 300)]
    requests: usize,
    /// The inbox's pid, to report its memory.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Names the case in the report.
    #[arg(long, default_value = "")]
    label: String,
}

/// One search case, as one JSON line.
#[derive(Debug, Serialize)]
pub struct SearchReport {
    protocol: &'static str,
    label: String,
    query: String,
    requests: usize,
    /// Rows on the answered page.
    rows: usize,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    errors: usize,
    rss_peak_bytes: Option<u64>,
}

/// Asks for the search `requests` times and reports the latencies.
pub async fn search(args: SearchArgs) -> Result<SearchReport, String> {
    let token = std::env::var("INLET_TOKEN").map_err(|_| "INLET_TOKEN is not set".to_owned())?;
    let client = reqwest::Client::new();
    let url = reqwest::Url::parse_with_params(&format!("{}/", args.inbox), &[("q", &args.query)])
        .map_err(|e| e.to_string())?;
    let mut latencies = Vec::with_capacity(args.requests);
    let (mut errors, mut rows) = (0, 0);
    for _ in 0..args.requests {
        let started = Instant::now();
        let answer = client.get(url.clone()).bearer_auth(&token).send().await;
        let page = match answer {
            Ok(answer) if answer.status().is_success() => answer.text().await.unwrap_or_default(),
            _ => {
                errors += 1;
                continue;
            }
        };
        latencies.push(started.elapsed());
        rows = page.matches("<tr class=").count();
    }
    latencies.sort();
    Ok(SearchReport {
        protocol: "inbox-search",
        label: args.label,
        query: args.query,
        requests: args.requests,
        rows,
        p50_ms: quantile_ms(&latencies, 0.5),
        p99_ms: quantile_ms(&latencies, 0.99),
        max_ms: quantile_ms(&latencies, 1.0),
        errors,
        rss_peak_bytes: args.server_pid.and_then(rss_and_peak).map(|(_, peak)| peak),
    })
}

/// Options of `inlet-bench inbox-live`.
#[derive(Debug, clap::Args)]
pub struct LiveArgs {
    /// The inbox's base URL.
    inbox: String,
    /// forms' base URL.
    #[arg(long)]
    forms: String,
    /// uploads' base URL.
    #[arg(long)]
    uploads: String,
    /// smtp's SMTP address.
    #[arg(long)]
    smtp: String,
    /// Arrivals per second, all kinds together (60 % posts, 20 % files, 20 % mail).
    #[arg(long, default_value_t = 1000)]
    rate: usize,
    /// How long to send.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// The inbox's pid, to report its memory.
    #[arg(long)]
    server_pid: Option<u32>,
}

/// The live run, as one JSON line.
#[derive(Debug, Serialize)]
pub struct LiveReport {
    protocol: &'static str,
    rate: usize,
    sent: usize,
    seen: usize,
    /// Arrivals whose row had not come 10 s after the last was sent.
    missing: usize,
    errors: usize,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    rss_peak_bytes: Option<u64>,
}

/// Sends arrivals at `rate` while reading the live stream; the time from
/// each 200/250 to its row.
pub async fn live(args: LiveArgs) -> Result<LiveReport, String> {
    let token = std::env::var("INLET_TOKEN").map_err(|_| "INLET_TOKEN is not set".to_owned())?;
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    let marker = format!("live{run}x");
    let acked: Arc<Mutex<HashMap<usize, Instant>>> = Arc::default();
    let seen: Arc<Mutex<HashMap<usize, Instant>>> = Arc::default();
    // Where the list is now, then its live stream from there.
    let client = reqwest::Client::new();
    let newest = client
        .get(format!("{}/", args.inbox))
        .bearer_auth(&token)
        .send()
        .await
        .map_err(|e| e.to_string())?
        .text()
        .await
        .map_err(|e| e.to_string())?;
    let after = newest
        .split("data-after=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or("0")
        .to_owned();
    let mut stream = client
        .get(format!("{}/live?after={after}", args.inbox))
        .bearer_auth(&token)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let reader = {
        let (seen, marker) = (Arc::clone(&seen), marker.clone());
        tokio::spawn(async move {
            let mut carry = String::new();
            while let Ok(Some(chunk)) = stream.chunk().await {
                let at = Instant::now();
                carry.push_str(&String::from_utf8_lossy(&chunk));
                let mut parts: Vec<&str> = carry.split(marker.as_str()).collect();
                let rest = parts.pop().unwrap_or_default().to_owned();
                let mut seen = seen.lock().unwrap();
                for part in parts.iter().skip(1).chain(std::iter::once(&rest.as_str())) {
                    let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
                    if let Ok(n) = digits.parse::<usize>() {
                        seen.entry(n).or_insert(at);
                    }
                }
                // Keep only the tail that may hold a marker cut in two.
                carry = carry[carry.len().saturating_sub(marker.len() + 24)..].to_owned();
            }
        })
    };
    let errors = Arc::new(AtomicUsize::new(0));
    let total = args.rate * args.seconds as usize;
    let interval = Duration::from_secs_f64(1.0 / args.rate as f64);
    let started = tokio::time::Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for n in 0..total {
        tokio::time::sleep_until(started + interval * n as u32).await;
        let (client, acked, errors) = (client.clone(), Arc::clone(&acked), Arc::clone(&errors));
        let (forms, uploads, smtp, marker) = (
            args.forms.clone(),
            args.uploads.clone(),
            args.smtp.clone(),
            marker.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let ok = match n % 5 {
                0..=2 => client
                    .post(format!("{forms}/"))
                    .json(&serde_json::json!({ "live": format!("{marker}{n}") }))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success()),
                3 => client
                    .put(format!("{uploads}/"))
                    .header("x-filename", format!("{marker}{n}.txt"))
                    .header("x-field", "f")
                    .body("live")
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success()),
                _ => send_live_mail(&smtp, &marker, n).await.is_ok(),
            };
            if ok {
                acked.lock().unwrap().insert(n, Instant::now());
            } else {
                errors.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    // Rows still on their way get up to 10 s.
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let done = {
            let (acked, seen) = (acked.lock().unwrap(), seen.lock().unwrap());
            acked.keys().all(|n| seen.contains_key(n))
        };
        if done {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    reader.abort();
    let (acked, seen) = (acked.lock().unwrap(), seen.lock().unwrap());
    let mut latencies: Vec<Duration> = acked
        .iter()
        .filter_map(|(n, at)| seen.get(n).map(|row| row.saturating_duration_since(*at)))
        .collect();
    latencies.sort();
    Ok(LiveReport {
        protocol: "inbox-live",
        rate: args.rate,
        sent: total,
        seen: latencies.len(),
        missing: acked.len() - latencies.len(),
        errors: errors.load(Ordering::Relaxed),
        p50_ms: quantile_ms(&latencies, 0.5),
        p99_ms: quantile_ms(&latencies, 0.99),
        max_ms: quantile_ms(&latencies, 1.0),
        rss_peak_bytes: args.server_pid.and_then(rss_and_peak).map(|(_, peak)| peak),
    })
}

/// One mail in a session of its own; `Ok` once it is answered 250.
async fn send_live_mail(address: &str, marker: &str, n: usize) -> Result<(), String> {
    let stream = TcpStream::connect(address)
        .await
        .map_err(|e| e.to_string())?;
    let mut session = Smtp(BufReader::new(stream));
    session.expect(220).await?;
    session.command("EHLO bench.local", 250).await?;
    session.command("MAIL FROM:<live@example.org>", 250).await?;
    session.command("RCPT TO:<you@example.com>", 250).await?;
    session.command("DATA", 354).await?;
    let body = format!("From: live@example.org\r\nTo: you@example.com\r\nSubject: {marker}{n}\r\n\r\nlive\r\n.\r\n");
    session.send(body.as_bytes()).await?;
    session.expect(250).await?;
    let _ = session.command("QUIT", 221).await;
    Ok(())
}
