//! `inlet-bench smtp`: `--sessions` concurrent SMTP sessions, each sending
//! `--messages` messages of `--message-bytes` to one recipient, one command
//! at a time as ordinary clients do. Each message starts with RSET (the
//! seed's Node server keeps earlier recipients otherwise) and is timed from
//! MAIL to the 250 after its final dot.

use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::report::quantile_ms;
use crate::rss::rss_and_peak;

/// Options of `inlet-bench smtp`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The server, e.g. `127.0.0.1:2525`.
    address: String,
    /// Concurrent sessions.
    #[arg(long, default_value_t = 8)]
    sessions: usize,
    /// Messages per session.
    #[arg(long, default_value_t = 200)]
    messages: usize,
    /// Body size of every message.
    #[arg(long, default_value_t = 4096)]
    message_bytes: usize,
    /// The recipient (one the server accepts).
    #[arg(long, default_value = "you@example.com")]
    to: String,
    /// The server's pid, to report its memory.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Names the server in the report.
    #[arg(long, default_value = "")]
    label: String,
}

/// One run, as one JSON line.
#[derive(Debug, Serialize)]
pub struct SmtpReport {
    protocol: &'static str,
    label: String,
    sessions: usize,
    messages: usize,
    message_bytes: usize,
    seconds: f64,
    msgs_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// Messages not answered 250.
    errors: usize,
    rss_before_bytes: Option<u64>,
    rss_peak_bytes: Option<u64>,
}

/// Runs the load and reports it.
pub async fn run(args: Args) -> Result<SmtpReport, String> {
    if args.sessions == 0 || args.messages == 0 {
        return Err("--sessions and --messages must be at least 1".into());
    }
    let rss_before = args.server_pid.and_then(rss_and_peak).map(|(rss, _)| rss);
    let body = body_of(args.message_bytes);
    let started = Instant::now();
    let tasks: Vec<_> = (0..args.sessions)
        .map(|_| {
            let (address, to, body) = (args.address.clone(), args.to.clone(), body.clone());
            let messages = args.messages;
            tokio::spawn(async move { session(&address, &to, &body, messages).await })
        })
        .collect();
    let mut times = Vec::new();
    let mut errors = 0;
    for task in tasks {
        match task.await {
            Ok(Ok((mut mine, failed))) => {
                times.append(&mut mine);
                errors += failed;
            }
            Ok(Err(err)) => return Err(err),
            Err(err) => return Err(err.to_string()),
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    times.sort_unstable();
    Ok(SmtpReport {
        protocol: "smtp",
        label: args.label,
        sessions: args.sessions,
        messages: args.sessions * args.messages,
        message_bytes: args.message_bytes,
        seconds,
        msgs_per_s: times.len() as f64 / seconds,
        p50_ms: quantile_ms(&times, 0.5),
        p99_ms: quantile_ms(&times, 0.99),
        errors,
        rss_before_bytes: rss_before,
        rss_peak_bytes: args.server_pid.and_then(rss_and_peak).map(|(_, peak)| peak),
    })
}

/// A body of `size` bytes in 78-byte lines (no line starts with a dot).
fn body_of(size: usize) -> Vec<u8> {
    let mut body = b"Subject: inlet-bench\r\n\r\n".to_vec();
    let line: Vec<u8> = (0..76)
        .map(|i| b'a' + (i % 26) as u8)
        .chain(*b"\r\n")
        .collect();
    while body.len() + line.len() <= size {
        body.extend_from_slice(&line);
    }
    body.extend(std::iter::repeat_n(
        b'z',
        size.saturating_sub(body.len() + 2),
    ));
    body.extend_from_slice(b"\r\n");
    body
}

/// One session: greeting, EHLO, then `messages` × (RSET, MAIL, RCPT, DATA, body).
async fn session(
    address: &str,
    to: &str,
    body: &[u8],
    messages: usize,
) -> Result<(Vec<Duration>, usize), String> {
    let stream = TcpStream::connect(address)
        .await
        .map_err(|e| format!("cannot connect to {address}: {e}"))?;
    // The body and its final dot are two writes: no Nagle wait between them.
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut reply = async |write: &mut tokio::net::tcp::OwnedWriteHalf,
                           send: &[u8]|
           -> Result<String, String> {
        if !send.is_empty() {
            write.write_all(send).await.map_err(|e| e.to_string())?;
        }
        loop {
            let line = lines
                .next_line()
                .await
                .map_err(|e| e.to_string())?
                .ok_or("the server closed the session")?;
            if line.as_bytes().get(3) != Some(&b'-') {
                return Ok(line[..3].to_owned());
            }
        }
    };
    reply(&mut write, b"").await?;
    reply(&mut write, b"EHLO inlet-bench\r\n").await?;
    let (mut times, mut errors) = (Vec::with_capacity(messages), 0);
    let rcpt = format!("RCPT TO:<{to}>\r\n");
    for _ in 0..messages {
        reply(&mut write, b"RSET\r\n").await?;
        let started = Instant::now();
        let ok = reply(&mut write, b"MAIL FROM:<bench@example.com>\r\n").await? == "250"
            && reply(&mut write, rcpt.as_bytes()).await? == "250"
            && reply(&mut write, b"DATA\r\n").await? == "354"
            && {
                write.write_all(body).await.map_err(|e| e.to_string())?;
                reply(&mut write, b".\r\n").await? == "250"
            };
        if ok {
            times.push(started.elapsed());
        } else {
            errors += 1;
        }
    }
    let _ = reply(&mut write, b"QUIT\r\n").await;
    Ok((times, errors))
}
