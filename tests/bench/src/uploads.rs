//! `inlet-bench uploads`: generated files sent as multipart POSTs or raw
//! PUTs over a fixed number of kept-alive connections. Bodies are made of
//! one shared pattern chunk, so the generator copies nothing per request.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE};

use crate::report::{quantile_ms, Report};
use crate::rss::rss_and_peak;

/// The pattern chunk: bytes that never form a line break, so no multipart
/// delimiter can appear inside a file.
const CHUNK: usize = 256 * 1024;
const BOUNDARY: &str = "inlet-bench-boundary-7f3a";

/// How files are sent.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Mode {
    /// `multipart/form-data` POST, `--files-per-request` file parts each.
    Multipart,
    /// Raw PUT with `x-filename` and `x-field`, one file each.
    Put,
}

/// Options of `inlet-bench uploads`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The upload endpoint, e.g. `http://127.0.0.1:8081/`.
    url: String,
    /// Multipart POST or raw PUT.
    #[arg(long, value_enum, default_value = "multipart")]
    mode: Mode,
    /// Size of every file.
    #[arg(long, default_value_t = 64 * 1024)]
    file_bytes: u64,
    /// Files sent in all.
    #[arg(long, default_value_t = 1000)]
    files: usize,
    /// Files per multipart request (PUT always sends one).
    #[arg(long, default_value_t = 1)]
    files_per_request: usize,
    /// Concurrent kept-alive connections.
    #[arg(long, default_value_t = 8)]
    connections: usize,
    /// The server's pid, to report its memory.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Names the server in the report.
    #[arg(long, default_value = "")]
    label: String,
}

/// Why a run could not be made.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The options make no run.
    #[error("{0}")]
    Options(&'static str),
    /// An HTTP client could not be built.
    #[error("cannot build an HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// Runs the load and reports it.
pub async fn run(args: Args) -> Result<Report, BenchError> {
    if args.files == 0 || args.connections == 0 || args.files_per_request == 0 {
        return Err(BenchError::Options(
            "--files, --connections and --files-per-request must be at least 1",
        ));
    }
    let per_request = match args.mode {
        Mode::Multipart => args.files_per_request,
        Mode::Put => 1,
    };
    let requests = args.files.div_ceil(per_request);
    let pattern = Bytes::from((0..CHUNK).map(|i| (i % 251) as u8).collect::<Vec<u8>>());
    let before = args.server_pid.and_then(rss_and_peak);

    // Built in one workspace with the CLI, reqwest has rustls without a provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..args.connections.min(requests) {
        let client = reqwest::Client::builder()
            .http1_only()
            .pool_max_idle_per_host(1)
            .timeout(Duration::from_secs(600))
            .build()?;
        let (next, pattern, url) = (Arc::clone(&next), pattern.clone(), args.url.clone());
        let (mode, file_bytes, files) = (args.mode, args.file_bytes, args.files);
        workers.spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0;
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= requests {
                    return (latencies, errors);
                }
                let first_file = index * per_request;
                let count = per_request.min(files - first_file);
                let request = match mode {
                    Mode::Multipart => {
                        multipart(&client, &url, &pattern, first_file, count, file_bytes)
                    }
                    Mode::Put => put(&client, &url, &pattern, first_file, file_bytes),
                };
                let sent = Instant::now();
                let ok = match request.send().await {
                    Ok(res) => {
                        let ok = res.status().is_success();
                        // Read the answer whole, as a client would.
                        res.bytes().await.is_ok() && ok
                    }
                    Err(_) => false,
                };
                latencies.push(sent.elapsed());
                if !ok {
                    errors += 1;
                }
            }
        });
    }
    let mut latencies = Vec::with_capacity(requests);
    let mut errors = 0;
    while let Some(done) = workers.join_next().await {
        let (mut some, failed) = done.expect("a load worker never panics");
        latencies.append(&mut some);
        errors += failed;
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let after = args.server_pid.and_then(rss_and_peak);
    let total_bytes = args.file_bytes as f64 * args.files as f64;
    Ok(Report {
        protocol: "uploads",
        mode: format!("{:?}", args.mode).to_lowercase(),
        label: args.label,
        connections: args.connections,
        requests,
        files: args.files,
        file_bytes: args.file_bytes,
        errors,
        seconds,
        mb_per_s: total_bytes / seconds / 1e6,
        files_per_s: args.files as f64 / seconds,
        p50_ms: quantile_ms(&latencies, 0.5),
        p99_ms: quantile_ms(&latencies, 0.99),
        rss_before_bytes: before.map(|(rss, _)| rss),
        rss_peak_bytes: after.map(|(_, peak)| peak),
    })
}

/// `len` bytes of the pattern, as shared slices of it.
fn content(pattern: &Bytes, len: u64) -> impl Iterator<Item = Bytes> + '_ {
    let chunks = len.div_ceil(CHUNK as u64);
    (0..chunks).map(move |i| {
        let take = (len - i * CHUNK as u64).min(CHUNK as u64) as usize;
        pattern.slice(..take)
    })
}

fn multipart(
    client: &reqwest::Client,
    url: &str,
    pattern: &Bytes,
    first_file: usize,
    count: usize,
    file_bytes: u64,
) -> reqwest::RequestBuilder {
    let mut pieces = Vec::new();
    let mut length = 0u64;
    for file in first_file..first_file + count {
        let head = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"userfile{}\"; filename=\"bench-{file}.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n",
            file - first_file + 1
        );
        length += head.len() as u64 + file_bytes + 2;
        pieces.push(Bytes::from(head));
        pieces.extend(content(pattern, file_bytes));
        pieces.push(Bytes::from_static(b"\r\n"));
    }
    let tail = format!("--{BOUNDARY}--\r\n");
    length += tail.len() as u64;
    pieces.push(Bytes::from(tail));
    client
        .post(url)
        .header(
            CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .header(CONTENT_LENGTH, length)
        .body(body(pieces))
}

fn put(
    client: &reqwest::Client,
    url: &str,
    pattern: &Bytes,
    file: usize,
    file_bytes: u64,
) -> reqwest::RequestBuilder {
    client
        .put(url)
        .header("x-field", "userfile1")
        .header("x-filename", format!("bench-{file}.bin"))
        .header(CONTENT_LENGTH, file_bytes)
        .body(body(content(pattern, file_bytes).collect()))
}

fn body(pieces: Vec<Bytes>) -> reqwest::Body {
    reqwest::Body::wrap_stream(futures_util::stream::iter(
        pieces.into_iter().map(Ok::<_, std::io::Error>),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_is_the_exact_length_in_shared_chunks() {
        let pattern = Bytes::from(vec![1u8; CHUNK]);
        for len in [0, 1, CHUNK as u64, CHUNK as u64 + 1, 3 * CHUNK as u64 - 5] {
            let total: u64 = content(&pattern, len).map(|c| c.len() as u64).sum();
            assert_eq!(total, len);
        }
    }

    #[test]
    fn the_pattern_has_no_line_break_pair() {
        let pattern: Vec<u8> = (0..CHUNK).map(|i| (i % 251) as u8).collect();
        assert!(!pattern.windows(2).any(|w| w == b"\r\n"));
    }
}
