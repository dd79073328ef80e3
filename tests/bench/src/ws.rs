//! `inlet-bench ws`: WebSocket load.
//!
//! - `--mode hello`: each connection sends `Hello` and waits for
//!   `Websockets!` before the next (the seed's socket; any server of it).
//! - `--mode echo`: the same with a `--message-bytes` text message that
//!   must come back unchanged (`/echo`).
//! - `--mode fanout`: `--connections` subscribers on `/events`, then
//!   `--events` events published over gRPC (`--publish-url`) as fast as the
//!   gateway takes them; deliveries per second until every subscriber has
//!   every event.
//!
//! Round trips are closed-loop: each connection keeps `--pipeline` messages
//! in flight (default 1: send, wait for the answer, send again), so msgs/s
//! is answers per second and the RTT quantiles are what one client sees
//! under that load. With one message in flight the generator spends about
//! as much per message as the server, so on one core it cannot outrun a
//! server on another; a deeper pipeline lets it write and read many frames
//! per system call. The first `--warmup-secs` are not counted.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use std::collections::VecDeque;

use futures_util::{FutureExt, SinkExt, StreamExt};
use inlet_proto::events::v1::event::Kind;
use inlet_proto::events::v1::event_ingest_client::EventIngestClient;
use inlet_proto::events::v1::{Event, FormSubmitted, PublishRequest};
use serde::Serialize;
use tokio_tungstenite::tungstenite::Message;

use crate::report::quantile_ms;
use crate::rss::rss_and_peak;

/// What to load.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Mode {
    /// `Hello` → `Websockets!` round trips.
    Hello,
    /// Echo round trips of `--message-bytes`.
    Echo,
    /// Event fan-out to subscribers on `/events`.
    Fanout,
}

/// Options of `inlet-bench ws`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The socket, e.g. `ws://127.0.0.1:8082/` (`/echo`, `/events` for the modes that need them).
    url: String,
    /// What to load.
    #[arg(long, value_enum, default_value = "hello")]
    mode: Mode,
    /// Concurrent connections (subscribers, for fanout).
    #[arg(long, default_value_t = 100)]
    connections: usize,
    /// Seconds measured (round trips).
    #[arg(long, default_value_t = 10.0)]
    duration_secs: f64,
    /// Seconds run before measuring (round trips).
    #[arg(long, default_value_t = 2.0)]
    warmup_secs: f64,
    /// Messages in flight per connection (round trips).
    #[arg(long, default_value_t = 1)]
    pipeline: usize,
    /// Size of each echo message.
    #[arg(long, default_value_t = 64)]
    message_bytes: usize,
    /// Events published (fanout).
    #[arg(long, default_value_t = 1000)]
    events: u64,
    /// The gateway's gRPC ingest, e.g. `http://127.0.0.1:50051` (fanout).
    #[arg(long)]
    publish_url: Option<String>,
    /// The server's pid, to report its memory.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Names the server in the report.
    #[arg(long, default_value = "")]
    label: String,
}

/// One run, as one JSON line.
#[derive(Debug, Serialize)]
pub struct WsReport {
    protocol: &'static str,
    mode: &'static str,
    label: String,
    connections: usize,
    pipeline: usize,
    seconds: f64,
    /// Round trips per second (hello, echo).
    msgs_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// Event frames received by all subscribers together, per second (fanout).
    deliveries_per_s: f64,
    /// Failed connections, wrong answers, missing events.
    errors: usize,
    rss_before_bytes: Option<u64>,
    rss_peak_bytes: Option<u64>,
}

/// Why a run could not be made.
#[derive(Debug, thiserror::Error)]
pub enum WsBenchError {
    /// The options make no run.
    #[error("{0}")]
    Options(&'static str),
    /// A connection could not be opened.
    #[error("cannot open {url}: {reason}")]
    Connect {
        /// Where.
        url: String,
        /// Why.
        reason: String,
    },
    /// Publishing failed.
    #[error("publishing failed: {0}")]
    Publish(String),
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Runs the load and reports it.
pub async fn run(args: Args) -> Result<WsReport, WsBenchError> {
    if args.connections == 0 {
        return Err(WsBenchError::Options("--connections must be at least 1"));
    }
    let rss_before = args.server_pid.and_then(rss_and_peak).map(|(rss, _)| rss);
    let sockets = open_all(&args.url, args.connections).await?;
    let mut report = match args.mode {
        Mode::Hello | Mode::Echo => round_trips(&args, sockets).await,
        Mode::Fanout => fan_out(&args, sockets).await?,
    };
    report.rss_before_bytes = rss_before;
    report.rss_peak_bytes = args.server_pid.and_then(rss_and_peak).map(|(_, peak)| peak);
    Ok(report)
}

/// Opens `count` sockets, 100 handshakes at a time.
async fn open_all(url: &str, count: usize) -> Result<Vec<Socket>, WsBenchError> {
    let mut sockets = Vec::with_capacity(count);
    while sockets.len() < count {
        let batch = (count - sockets.len()).min(100);
        let opened = futures_util::future::join_all((0..batch).map(|_| async move {
            tokio_tungstenite::connect_async(crate::credentials::ws_request(url)?).await
        }))
        .await;
        for result in opened {
            let (socket, _) = result.map_err(|e| WsBenchError::Connect {
                url: url.to_owned(),
                reason: e.to_string(),
            })?;
            sockets.push(socket);
        }
    }
    Ok(sockets)
}

async fn round_trips(args: &Args, sockets: Vec<Socket>) -> WsReport {
    let (message, expected) = match args.mode {
        Mode::Hello => ("Hello".to_owned(), "Websockets!".to_owned()),
        _ => {
            let text: String = (0..args.message_bytes)
                .map(|i| (b'a' + (i % 26) as u8) as char)
                .collect();
            (text.clone(), text)
        }
    };
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = sockets
        .into_iter()
        .map(|mut socket| {
            let (message, expected) = (message.clone(), expected.clone());
            let (measuring, stop) = (Arc::clone(&measuring), Arc::clone(&stop));
            let window = args.pipeline.max(1);
            tokio::spawn(async move {
                let mut rtts = Vec::new();
                let mut errors = 0usize;
                let mut in_flight: VecDeque<Instant> = VecDeque::with_capacity(window);
                'run: while !stop.load(Ordering::Relaxed) {
                    // Fill the window, one write for all of it.
                    while in_flight.len() < window {
                        if socket.feed(Message::text(message.as_str())).await.is_err() {
                            errors += 1;
                            break 'run;
                        }
                        in_flight.push_back(Instant::now());
                    }
                    if socket.flush().await.is_err() {
                        errors += 1;
                        break;
                    }
                    // One answer, then every answer already read.
                    let mut next = socket.next().await;
                    loop {
                        match next {
                            Some(Ok(Message::Text(text))) => {
                                let sent = in_flight.pop_front();
                                if text.as_str() != expected {
                                    errors += 1;
                                } else if let (Some(sent), true) =
                                    (sent, measuring.load(Ordering::Relaxed))
                                {
                                    rtts.push(sent.elapsed());
                                }
                            }
                            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                            _ => {
                                errors += 1;
                                break 'run;
                            }
                        }
                        match socket.next().now_or_never() {
                            Some(more) => next = more,
                            None => break,
                        }
                    }
                }
                let _ = socket.close(None).await;
                (rtts, errors)
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs_f64(args.warmup_secs)).await;
    measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(args.duration_secs)).await;
    measuring.store(false, Ordering::Relaxed);
    let seconds = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let mut rtts = Vec::new();
    let mut errors = 0;
    for task in tasks {
        if let Ok((mut mine, failed)) = task.await {
            rtts.append(&mut mine);
            errors += failed;
        } else {
            errors += 1;
        }
    }
    rtts.sort_unstable();
    WsReport {
        protocol: "ws",
        mode: match args.mode {
            Mode::Hello => "hello",
            _ => "echo",
        },
        label: args.label.clone(),
        connections: args.connections,
        pipeline: args.pipeline.max(1),
        seconds,
        msgs_per_s: rtts.len() as f64 / seconds,
        p50_ms: quantile_ms(&rtts, 0.5),
        p99_ms: quantile_ms(&rtts, 0.99),
        deliveries_per_s: 0.0,
        errors,
        rss_before_bytes: None,
        rss_peak_bytes: None,
    }
}

async fn fan_out(args: &Args, sockets: Vec<Socket>) -> Result<WsReport, WsBenchError> {
    let publish_url = args
        .publish_url
        .clone()
        .ok_or(WsBenchError::Options("--mode fanout needs --publish-url"))?;
    let events = args.events;
    // Every subscriber first takes its `subscribed` frame, then counts events.
    let mut ready = Vec::with_capacity(sockets.len());
    let mut subscribers = Vec::with_capacity(sockets.len());
    for mut socket in sockets {
        let (is_ready, ready_rx) = tokio::sync::oneshot::channel();
        ready.push(ready_rx);
        subscribers.push(tokio::spawn(async move {
            let _ = socket.next().await;
            let _ = is_ready.send(());
            let mut got = 0u64;
            while got < events {
                match socket.next().await {
                    Some(Ok(Message::Text(_))) => got += 1,
                    Some(Ok(_)) => {}
                    _ => break,
                }
            }
            got
        }));
    }
    for r in ready {
        let _ = r.await;
    }
    let channel = tonic::transport::Endpoint::from_shared(publish_url)
        .map_err(|e| WsBenchError::Publish(e.to_string()))?
        .connect()
        .await
        .map_err(|e| WsBenchError::Publish(e.to_string()))?;
    let client = EventIngestClient::with_interceptor(
        channel,
        crate::credentials::add_publish_token
            as fn(tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status>,
    );
    let started = Instant::now();
    // Eight publishers in parallel over one HTTP/2 connection.
    let publishers: Vec<_> = (0..8u64)
        .map(|p| {
            let mut client = client.clone();
            tokio::spawn(async move {
                let mut i = p;
                while i < events {
                    let request = PublishRequest {
                        event: Some(event(i)),
                    };
                    client.publish(request).await.map_err(|e| e.to_string())?;
                    i += 8;
                }
                Ok::<(), String>(())
            })
        })
        .collect();
    for publisher in publishers {
        publisher
            .await
            .map_err(|e| WsBenchError::Publish(e.to_string()))?
            .map_err(WsBenchError::Publish)?;
    }
    let mut delivered = 0u64;
    let mut errors = 0usize;
    for subscriber in subscribers {
        let got = subscriber.await.unwrap_or(0);
        delivered += got;
        if got < events {
            errors += 1;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(WsReport {
        protocol: "ws",
        mode: "fanout",
        label: args.label.clone(),
        connections: args.connections,
        pipeline: 0,
        seconds,
        msgs_per_s: 0.0,
        p50_ms: 0.0,
        p99_ms: 0.0,
        deliveries_per_s: delivered as f64 / seconds,
        errors,
        rss_before_bytes: None,
        rss_peak_bytes: None,
    })
}

fn event(i: u64) -> Event {
    Event {
        id: format!("bench-{i}"),
        time: Some(prost_types::Timestamp {
            seconds: 1_800_000_000,
            nanos: 0,
        }),
        source: "inlet-bench".into(),
        kind: Some(Kind::FormSubmitted(FormSubmitted {
            submission_id: format!("bench-{i}"),
            content_type: "application/x-www-form-urlencoded".into(),
            field_names: vec!["name".into(), "email".into(), "message".into()],
            size: 64,
        })),
        ..Event::default()
    }
}
