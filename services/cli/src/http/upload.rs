//! `inlet upload` (one multipart POST, a part per file) and `inlet put` (one
//! file as the body): both stream from disk with a progress bar per file.

use std::path::{Path, PathBuf};

use reqwest::multipart::{Form, Part};
use reqwest::Body;

use super::progress::{file_stream, Progress};
use super::{client, exchange, key_value, parse_url, print_body};
use crate::args::{PutArgs, UploadArgs};
use crate::context::Context;
use crate::error::CliError;
use crate::outcome::Outcome;

/// A file opened for sending.
struct Opened {
    path: PathBuf,
    name: String,
    len: u64,
    file: tokio::fs::File,
}

async fn open(path: &Path) -> Result<Opened, CliError> {
    let fail = |err| CliError::file(path, err);
    let file = tokio::fs::File::open(path).await.map_err(fail)?;
    let meta = file.metadata().await.map_err(fail)?;
    if !meta.is_file() {
        return Err(CliError::file(
            path,
            std::io::Error::other("not a regular file"),
        ));
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".to_owned());
    Ok(Opened {
        path: path.to_owned(),
        name,
        len: meta.len(),
        file,
    })
}

/// Uploads every file in one multipart POST.
pub async fn upload(args: UploadArgs, ctx: &Context) -> Result<Outcome, CliError> {
    let url = parse_url(&args.url)?;
    let client = client(ctx)?;
    // Open every file first: a missing one stops before anything is sent.
    let mut opened = Vec::with_capacity(args.files.len());
    for path in &args.files {
        opened.push(open(path).await?);
    }
    let mut form = Form::new();
    for pair in &args.fields {
        let (key, value) = key_value(pair)?;
        form = form.text(key.to_owned(), value.to_owned());
    }
    let progress = Progress::new();
    for (index, file) in opened.into_iter().enumerate() {
        let bar = progress.file(&file.path, file.len);
        let mime = mime_guess::from_path(&file.path).first_or_octet_stream();
        let part =
            Part::stream_with_length(Body::wrap_stream(file_stream(file.file, bar)), file.len)
                .file_name(file.name)
                .mime_str(mime.as_ref())
                .map_err(|err| CliError::Usage(err.to_string()))?;
        form = form.part(format!("userfile{index}"), part);
    }
    let builder = client.post(url.clone()).multipart(form);
    let (response, outcome) = exchange(&client, &url, builder, &args.http, ctx).await?;
    print_body(response, true).await?;
    Ok(outcome)
}

/// PUTs one file, named by `x-filename` and `x-field`.
pub async fn put(args: PutArgs, ctx: &Context) -> Result<Outcome, CliError> {
    let url = parse_url(&args.url)?;
    let client = client(ctx)?;
    let file = open(&args.file).await?;
    let bar = Progress::new().file(&file.path, file.len);
    let mime = mime_guess::from_path(&file.path).first_or_octet_stream();
    let body = Body::wrap_stream(file_stream(file.file, bar));
    let builder = client
        .put(url.clone())
        .header("x-filename", header_safe(&file.name))
        .header("x-field", args.field.clone())
        .header(reqwest::header::CONTENT_TYPE, mime.as_ref())
        .header(reqwest::header::CONTENT_LENGTH, file.len)
        .body(body);
    let (response, outcome) = exchange(&client, &url, builder, &args.http, ctx).await?;
    print_body(response, true).await?;
    Ok(outcome)
}

/// A file name as a header value, UTF-8 as is (the server reads it as
/// UTF-8); control characters are not valid in a header, so they become `_`.
fn header_safe(name: &str) -> reqwest::header::HeaderValue {
    let cleaned: String = name
        .chars()
        .map(|c| if c.is_control() { '_' } else { c })
        .collect();
    reqwest::header::HeaderValue::from_bytes(cleaned.as_bytes())
        .expect("no control characters are left")
}
