//! `inlet-bench feed`: the event feed end to end, from a form post's 200 to
//! the subscriber's frame. `--subscribers` sockets on the gateways'
//! `/events` (spread over every `--events-url`, e.g. two replicas on NATS),
//! then form posts at `--rate` per second for `--duration-secs`, each naming
//! itself in its one field (`{"b00000042":1}`). Every subscriber counts its
//! frames; `--sampled` of them (spread over the gateways) also parse each
//! frame, so the latency is measured for every post on each of them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde::Serialize;
use tokio_tungstenite::tungstenite::Message;

use crate::report::quantile_ms;

/// Options of `inlet-bench feed`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Forms, e.g. `http://127.0.0.1:8080/`.
    #[arg(long)]
    forms: String,
    /// A gateway's feed, e.g. `ws://127.0.0.1:8082/events`; repeat for replicas.
    #[arg(long = "events-url", required = true)]
    events_urls: Vec<String>,
    /// Subscribers in all, spread over the gateways.
    #[arg(long, default_value_t = 1000)]
    subscribers: usize,
    /// Subscribers that measure latency (the others only count).
    #[arg(long, default_value_t = 20)]
    sampled: usize,
    /// Posts per second.
    #[arg(long, default_value_t = 1000)]
    rate: u64,
    /// Seconds of posting.
    #[arg(long, default_value_t = 10.0)]
    duration_secs: f64,
    /// Names the run in the report.
    #[arg(long, default_value = "")]
    label: String,
}

/// One run, as one JSON line.
#[derive(Debug, Serialize)]
pub struct FeedReport {
    protocol: &'static str,
    label: String,
    gateways: usize,
    subscribers: usize,
    /// Posts answered 200.
    posts: u64,
    posts_per_s: f64,
    /// Event frames all subscribers received together, per second, from
    /// the first post to the last frame.
    deliveries_per_s: f64,
    /// From a post's 200 to its frame on a sampled subscriber.
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    /// Posts some sampled subscriber never saw, and failed posts.
    missing: u64,
    /// Subscribers that did not get every event (closed as too slow).
    short_subscribers: u64,
    failed_posts: u64,
}

/// Why a run could not be made.
#[derive(Debug, thiserror::Error)]
pub enum FeedBenchError {
    /// A subscriber could not connect.
    #[error("cannot open {url}: {reason}")]
    Connect {
        /// Where.
        url: String,
        /// Why.
        reason: String,
    },
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Runs the load and reports it.
pub async fn run(args: Args) -> Result<FeedReport, FeedBenchError> {
    let total = (args.rate as f64 * args.duration_secs) as usize;
    let started = Instant::now();
    let nanos = move |at: Instant| at.duration_since(started).as_nanos() as u64;
    // When each post was answered (0: not, or not 200).
    let answered: Arc<Vec<AtomicU64>> = Arc::new((0..total).map(|_| AtomicU64::new(0)).collect());
    let frames = Arc::new(AtomicU64::new(0));
    let last_frame = Arc::new(AtomicU64::new(0));
    let gateways = args.events_urls.len();
    let sampled = args.sampled.min(args.subscribers);
    let mut readers = Vec::with_capacity(args.subscribers);
    for n in 0..args.subscribers {
        let url = &args.events_urls[n % gateways];
        let mut socket = open(url).await?;
        let _subscribed = socket.next().await;
        let (frames, last_frame) = (Arc::clone(&frames), Arc::clone(&last_frame));
        let samples = n < sampled;
        readers.push(tokio::spawn(async move {
            // Per post: when this subscriber saw it (0: not).
            let mut seen = vec![0u64; if samples { total } else { 0 }];
            let mut count = 0usize;
            while count < total {
                match socket.next().await {
                    Some(Ok(Message::Text(text))) => {
                        count += 1;
                        let now = Instant::now();
                        frames.fetch_add(1, Ordering::Relaxed);
                        last_frame.fetch_max(nanos(now), Ordering::Relaxed);
                        if samples {
                            if let Some(i) = post_number(&text) {
                                if let Some(slot) = seen.get_mut(i) {
                                    *slot = nanos(now);
                                }
                            }
                        }
                    }
                    Some(Ok(_)) => {}
                    _ => break,
                }
            }
            (seen, count)
        }));
    }

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .expect("a client");
    let posting_started = Instant::now();
    let limit = Arc::new(tokio::sync::Semaphore::new(256));
    let failed = Arc::new(AtomicU64::new(0));
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / args.rate as f64));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut posts = Vec::with_capacity(total);
    for i in 0..total {
        tick.tick().await;
        let permit = Arc::clone(&limit).acquire_owned().await.expect("open");
        let (client, answered, failed) =
            (client.clone(), Arc::clone(&answered), Arc::clone(&failed));
        let url = args.forms.clone();
        posts.push(tokio::spawn(async move {
            let res = client
                .post(&url)
                .header("content-type", "application/json")
                .body(format!(r#"{{"b{i:08}":1}}"#))
                .send()
                .await;
            match res {
                Ok(res) if res.status() == 200 => {
                    answered[i].store(nanos(Instant::now()), Ordering::Relaxed)
                }
                _ => {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            }
            drop(permit);
        }));
    }
    for post in posts {
        let _ = post.await;
    }
    let posting_seconds = posting_started.elapsed().as_secs_f64();
    // Every frame comes, or ten seconds pass after the last post; a
    // subscriber the gateway closed as too slow ends early.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut seen_per_sampled = Vec::new();
    let mut short = 0u64;
    for (n, reader) in readers.into_iter().enumerate() {
        let abort = reader.abort_handle();
        let outcome = tokio::time::timeout_at(deadline, reader)
            .await
            .ok()
            .and_then(Result::ok);
        abort.abort();
        let (seen, count) = outcome.unwrap_or_default();
        if count < posts_answered(&answered) {
            short += 1;
        }
        if n < sampled {
            seen_per_sampled.push(seen);
        }
    }
    let mut latencies = Vec::new();
    let mut missing = 0u64;
    for seen in &seen_per_sampled {
        for (i, answer) in answered.iter().enumerate() {
            let answer = answer.load(Ordering::Relaxed);
            if answer == 0 {
                continue;
            }
            match seen.get(i).copied().unwrap_or(0) {
                0 => missing += 1,
                // A frame can beat the answer to the client: no negative wait.
                at => latencies.push(Duration::from_nanos(at.saturating_sub(answer))),
            }
        }
    }
    latencies.sort_unstable();
    let posts = answered
        .iter()
        .filter(|a| a.load(Ordering::Relaxed) != 0)
        .count() as u64;
    let first_post = posting_started.duration_since(started).as_nanos() as u64;
    let delivering = (last_frame
        .load(Ordering::Relaxed)
        .saturating_sub(first_post)) as f64
        / 1e9;
    Ok(FeedReport {
        protocol: "feed",
        label: args.label,
        gateways,
        subscribers: args.subscribers,
        posts,
        posts_per_s: posts as f64 / posting_seconds,
        deliveries_per_s: frames.load(Ordering::Relaxed) as f64 / delivering.max(1e-9),
        p50_ms: quantile_ms(&latencies, 0.5),
        p99_ms: quantile_ms(&latencies, 0.99),
        max_ms: latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
        missing,
        short_subscribers: short,
        failed_posts: failed.load(Ordering::Relaxed),
    })
}

/// How many posts were answered 200.
fn posts_answered(answered: &[AtomicU64]) -> usize {
    answered
        .iter()
        .filter(|a| a.load(Ordering::Relaxed) != 0)
        .count()
}

async fn open(url: &str) -> Result<Socket, FeedBenchError> {
    let fail = |reason: String| FeedBenchError::Connect {
        url: url.to_owned(),
        reason,
    };
    let request = crate::credentials::ws_request(url).map_err(|e| fail(e.to_string()))?;
    let (socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .map_err(|e| fail(e.to_string()))?;
    Ok(socket)
}

/// The post number a frame's first field names (`"field_names":["b00000042"]`).
fn post_number(frame: &str) -> Option<usize> {
    let at = frame.find("\"field_names\":[\"b")? + "\"field_names\":[\"b".len();
    frame.get(at..at + 8)?.parse().ok()
}
