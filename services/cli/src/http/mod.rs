//! The HTTP commands (`post`, `get`, `delete`, `upload`, `put`) and what they share:
//! one client, headers, the request and response as shown, and a body read
//! that checks Content-Length.

pub mod delete;
pub mod get;
pub mod post;
pub mod progress;
pub mod upload;

use std::io::IsTerminal;

use reqwest::header::{HeaderName, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use reqwest::{Client, Request, RequestBuilder, Response, Url};
use tokio::io::AsyncWriteExt;

use crate::args::HttpOptions;
use crate::context::Context;
use crate::error::{chain, CliError};
use crate::outcome::Outcome;
use crate::style::{dim, Stream};

/// The client for one command: `--timeout` for connecting and for each read, `--cacert`.
pub fn client(ctx: &Context) -> Result<Client, CliError> {
    let mut builder = Client::builder()
        .user_agent(concat!("inlet/", env!("CARGO_PKG_VERSION")))
        .tls_backend_preconfigured((*ctx.tls).clone());
    if let Some(limit) = ctx.timeout {
        builder = builder.connect_timeout(limit).read_timeout(limit);
    }
    builder
        .build()
        .map_err(|err| CliError::Network(chain(&err)))
}

/// An http(s) URL from the command line.
pub fn parse_url(text: &str) -> Result<Url, CliError> {
    let url =
        Url::parse(text).map_err(|err| CliError::Usage(format!("not a URL: {text}: {err}")))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(CliError::Usage(format!(
            "not an http or https URL: {text} (scheme {other})"
        ))),
    }
}

/// Sends what `builder` makes with the `-H` headers and, with `--trace`, the
/// `traceparent`; shows the request (`-v`) and the answer's status line (and
/// `-v` headers). Gives the answer, its body unread, and the exit outcome.
pub async fn exchange(
    client: &Client,
    url: &Url,
    builder: RequestBuilder,
    options: &HttpOptions,
    ctx: &Context,
) -> Result<(Response, Outcome), CliError> {
    let request = with_headers(builder, options, ctx)?
        .build()
        .map_err(|err| request_failed(url, &err))?;
    let response = send(client, request, options.verbose).await?;
    let outcome = show_response_head(&response, options.verbose, ctx);
    Ok((response, outcome))
}

/// Adds `-H` headers and, with `--trace`, the `traceparent`.
fn with_headers(
    mut builder: RequestBuilder,
    options: &HttpOptions,
    ctx: &Context,
) -> Result<RequestBuilder, CliError> {
    for line in &options.headers {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| CliError::Usage(format!("a header is `Name: value`, not {line:?}")))?;
        let name = HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| CliError::Usage(format!("not a header name: {:?}", name.trim())))?;
        let value = HeaderValue::from_str(value.trim())
            .map_err(|_| CliError::Usage(format!("not a header value: {:?}", value.trim())))?;
        builder = builder.header(name, value);
    }
    if let Some(traceparent) = ctx.trace.traceparent() {
        builder = builder.header("traceparent", traceparent);
    }
    Ok(builder)
}

/// Sends `request`, first showing it with `-v`.
async fn send(client: &Client, request: Request, verbose: bool) -> Result<Response, CliError> {
    if verbose {
        show_request(&request);
    }
    let url = request.url().clone();
    client
        .execute(request)
        .await
        .map_err(|err| request_failed(&url, &err))
}

/// One line for a request that got no answer.
pub fn request_failed(url: &Url, err: &reqwest::Error) -> CliError {
    let cause = root_cause(err);
    let what = if err.is_timeout() {
        "timed out (--timeout)".to_owned()
    } else if err.is_connect() {
        format!("cannot connect: {cause}")
    } else {
        cause
    };
    CliError::Network(format!("{url}: {what}"))
}

/// The innermost cause's text (reqwest wraps hyper wraps io).
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut inner = err;
    while let Some(next) = inner.source() {
        inner = next;
    }
    inner.to_string()
}

fn show_request(request: &Request) {
    let mut lines = vec![format!(
        "> {} {} {:?}",
        request.method(),
        request.url(),
        request.version()
    )];
    for (name, value) in request.headers() {
        lines.push(format!(
            "> {name}: {}",
            String::from_utf8_lossy(value.as_bytes())
        ));
    }
    if let Some(bytes) = request.body().and_then(|b| b.as_bytes()) {
        if !request.headers().contains_key(CONTENT_LENGTH) {
            lines.push(format!("> content-length: {}", bytes.len()));
        }
    }
    eprintln!("{}", dim(Stream::Stderr, &lines.join("\n")));
}

/// Shows the status line on stderr (and with `-v` the headers), and gives the exit outcome.
fn show_response_head(response: &Response, verbose: bool, ctx: &Context) -> Outcome {
    let status = response.status();
    ctx.trace.record_status(status.as_u16());
    eprintln!(
        "{:?} {} {}",
        response.version(),
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    if verbose {
        let lines: Vec<String> = response
            .headers()
            .iter()
            .map(|(name, value)| format!("< {name}: {}", String::from_utf8_lossy(value.as_bytes())))
            .collect();
        eprintln!("{}", dim(Stream::Stderr, &lines.join("\n")));
    }
    Outcome::of_status(status)
}

/// Whether the response says it is JSON.
pub fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime_guess::Mime>().ok())
        .is_some_and(|m| m.subtype() == "json" || m.suffix().is_some_and(|s| s == "json"))
}

/// Reads a response body as it arrives, counting it against Content-Length.
pub struct CheckedBody {
    response: Response,
    expected: Option<u64>,
    received: u64,
}

impl CheckedBody {
    /// Starts reading `response`.
    pub fn new(response: Response) -> Self {
        let expected = response
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        Self {
            response,
            expected,
            received: 0,
        }
    }

    /// The next piece, `None` at the end; an early end is [`CliError::LengthMismatch`].
    pub async fn next(&mut self) -> Result<Option<bytes::Bytes>, CliError> {
        match self.response.chunk().await {
            Ok(Some(chunk)) => {
                self.received += chunk.len() as u64;
                Ok(Some(chunk))
            }
            Ok(None) => match self.expected {
                Some(expected) if expected != self.received => Err(self.mismatch(expected)),
                _ => Ok(None),
            },
            Err(err) => match self.expected {
                Some(expected) if self.received < expected && !err.is_timeout() => {
                    Err(self.mismatch(expected))
                }
                _ => Err(request_failed(self.response.url(), &err)),
            },
        }
    }

    /// All of it, in memory.
    pub async fn collect(mut self) -> Result<Vec<u8>, CliError> {
        let mut all = Vec::new();
        while let Some(chunk) = self.next().await? {
            all.extend_from_slice(&chunk);
        }
        Ok(all)
    }

    fn mismatch(&self, expected: u64) -> CliError {
        CliError::LengthMismatch {
            expected,
            received: self.received,
        }
    }
}

/// JSON bodies up to this size are pretty-printed; a bigger one is printed
/// as it arrives, so memory stays bounded whatever the server sends.
const PRETTY_UP_TO: usize = 8 * 1024 * 1024;

/// Prints the body to stdout: JSON pretty-printed when `pretty` and it is
/// JSON (up to [`PRETTY_UP_TO`]), anything else streamed as it arrives.
pub async fn print_body(response: Response, pretty: bool) -> Result<(), CliError> {
    let json = pretty && is_json(&response);
    let mut body = CheckedBody::new(response);
    let mut stdout = tokio::io::stdout();
    let mut held = Vec::new();
    if json {
        while held.len() <= PRETTY_UP_TO {
            match body.next().await? {
                Some(chunk) => held.extend_from_slice(&chunk),
                None => {
                    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(&held) {
                        let text =
                            serde_json::to_string_pretty(&value).expect("a parsed value prints");
                        stdout.write_all(text.as_bytes()).await?;
                        stdout.write_all(b"\n").await?;
                        stdout.flush().await?;
                        return Ok(());
                    }
                    break;
                }
            }
        }
    }
    let mut last = held.last().copied();
    stdout.write_all(&held).await?;
    drop(held);
    while let Some(chunk) = body.next().await? {
        last = chunk.last().copied().or(last);
        stdout.write_all(&chunk).await?;
    }
    if last.is_some_and(|b| b != b'\n') && std::io::stdout().is_terminal() {
        stdout.write_all(b"\n").await?;
    }
    stdout.flush().await?;
    Ok(())
}

/// Splits `key=value`.
pub fn key_value(pair: &str) -> Result<(&str, &str), CliError> {
    pair.split_once('=')
        .ok_or_else(|| CliError::Usage(format!("expected key=value, got {pair:?}")))
}
