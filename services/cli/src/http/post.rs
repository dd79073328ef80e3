//! `inlet post`: a JSON or urlencoded body with its exact byte length, or
//! another URL's response streamed through as a chunked body.

use reqwest::header::CONTENT_TYPE;
use reqwest::Body;
use tokio::io::AsyncReadExt;

use super::{client, exchange, parse_url, print_body, request_failed};
use crate::args::PostArgs;
use crate::context::Context;
use crate::error::CliError;
use crate::outcome::Outcome;

/// Posts and prints the answer.
pub async fn run(args: PostArgs, ctx: &Context) -> Result<Outcome, CliError> {
    let url = parse_url(&args.url)?;
    let client = client(ctx)?;
    let (body, content_type) = body(&args, &client, ctx).await?;
    let content_type = args.content_type.clone().unwrap_or(content_type);
    let builder = client
        .post(url.clone())
        .header(CONTENT_TYPE, content_type)
        .body(body);
    let (response, outcome) = exchange(&client, &url, builder, &args.http, ctx).await?;
    print_body(response, true).await?;
    Ok(outcome)
}

/// The body and its default Content-Type.
async fn body(
    args: &PostArgs,
    client: &reqwest::Client,
    ctx: &Context,
) -> Result<(Body, String), CliError> {
    if let Some(json) = &args.json {
        let bytes = json_bytes(json).await?;
        return Ok((Body::from(bytes), "application/json".to_owned()));
    }
    if !args.form.is_empty() {
        let mut pairs = Vec::with_capacity(args.form.len());
        for pair in &args.form {
            pairs.push(super::key_value(pair)?);
        }
        let encoded = form_urlencoded(&pairs);
        return Ok((
            Body::from(encoded),
            "application/x-www-form-urlencoded".to_owned(),
        ));
    }
    if let Some(source) = &args.stream_from {
        return streamed(source, args.credential.token.as_deref(), client, ctx).await;
    }
    Err(CliError::Usage(
        "say what to post: --json DATA, --form key=value or --stream-from URL".to_owned(),
    ))
}

/// `--json`: the text, `@file`, or `-` (stdin), as bytes.
async fn json_bytes(json: &str) -> Result<Vec<u8>, CliError> {
    if json == "-" {
        let mut bytes = Vec::new();
        tokio::io::stdin().read_to_end(&mut bytes).await?;
        return Ok(bytes);
    }
    if let Some(path) = json.strip_prefix('@') {
        return tokio::fs::read(path)
            .await
            .map_err(|err| CliError::file(path.as_ref(), err));
    }
    Ok(json.as_bytes().to_vec())
}

fn form_urlencoded(pairs: &[(&str, &str)]) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs {
        serializer.append_pair(key, value);
    }
    serializer.finish()
}

/// `--stream-from`: the source's response as a chunked body, never held whole.
async fn streamed(
    source: &str,
    token: Option<&str>,
    client: &reqwest::Client,
    ctx: &Context,
) -> Result<(Body, String), CliError> {
    let source_url = parse_url(source)?;
    let mut builder = client.get(source_url.clone());
    if let Some(token) = token {
        builder = builder.bearer_auth(token);
    }
    if let Some(traceparent) = ctx.trace.traceparent() {
        builder = builder.header("traceparent", traceparent);
    }
    let response = builder
        .send()
        .await
        .map_err(|err| request_failed(&source_url, &err))?;
    if !response.status().is_success() {
        return Err(CliError::Response(format!(
            "{source_url}: the source answered {}",
            response.status()
        )));
    }
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_owned();
    Ok((Body::wrap_stream(response.bytes_stream()), content_type))
}
