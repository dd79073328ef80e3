//! `inlet-bench index-engines` (feature `engines`): the inbox's index on
//! SQLite FTS5 (the inbox's own code) against tantivy, on the same items —
//! read once from the services' APIs — and the same three searches: how
//! fast each builds, how large it is, and each search's latency.

use std::path::Path;
use std::time::{Duration, Instant};

use inlet_inbox::index::item::{Item, Kind};
use inlet_inbox::index::query::Query;
use inlet_inbox::index::search::Window;
use inlet_inbox::index::Index;
use serde::Serialize;
use tantivy::collector::TopDocs;
use tantivy::query::{AllQuery, BooleanQuery, Occur, RangeQuery, RegexQuery, TermQuery};
use tantivy::schema::{IndexRecordOption, Schema, FAST, INDEXED, STORED, STRING, TEXT};
use tantivy::{doc, Order, Term};

use crate::report::quantile_ms;

/// Options of `inlet-bench index-engines`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// forms' base URL.
    #[arg(long)]
    forms: String,
    /// uploads' base URL.
    #[arg(long)]
    uploads: String,
    /// smtp's mail API base URL.
    #[arg(long)]
    mail: String,
    /// Where both indexes are built (emptied first).
    #[arg(long)]
    dir: std::path::PathBuf,
    /// Runs of each search.
    #[arg(long, default_value_t = 300)]
    requests: usize,
}

/// One engine and case, as one JSON line each.
#[derive(Debug, Serialize)]
pub struct EngineReport {
    protocol: &'static str,
    engine: &'static str,
    case: String,
    items: usize,
    /// Building: items per second and bytes on disk.
    build_items_per_s: f64,
    index_bytes: u64,
    /// Rows the search found (at most a page of 51).
    rows: usize,
    p50_ms: f64,
    p99_ms: f64,
}

/// The three searches, in the inbox's language: a word, a combined
/// `kind: from: after:`, and the first page of everything.
fn cases() -> Vec<(&'static str, &'static str)> {
    vec![
        ("term", "dublin"),
        ("combined", "kind:mail from:alice after:2000-01-01"),
        ("first page", ""),
    ]
}

/// Reads every item, builds both indexes, runs the searches.
pub async fn run(args: Args) -> Result<Vec<EngineReport>, String> {
    let items = fetch_all(&args).await?;
    let _ = std::fs::remove_dir_all(&args.dir);
    std::fs::create_dir_all(&args.dir).map_err(|e| e.to_string())?;
    let mut reports = sqlite(&items, &args.dir.join("sqlite"), args.requests)?;
    reports.extend(tantivy(&items, &args.dir.join("tantivy"), args.requests)?);
    Ok(reports)
}

async fn fetch_all(args: &Args) -> Result<Vec<Item>, String> {
    let token = std::env::var("INLET_TOKEN").map_err(|_| "INLET_TOKEN is not set".to_owned())?;
    let client = reqwest::Client::new();
    let mut items = Vec::new();
    for (kind, base, path, key) in [
        (Kind::Submission, &args.forms, "/submissions", "submissions"),
        (Kind::File, &args.uploads, "/files", "files"),
        (Kind::Mail, &args.mail, "/messages", "messages"),
    ] {
        let mut cursor: Option<String> = None;
        loop {
            let mut url = format!("{base}{path}?limit=500");
            if let Some(cursor) = &cursor {
                url.push_str(&format!("&cursor={cursor}"));
            }
            let page: serde_json::Value = client
                .get(&url)
                .bearer_auth(&token)
                .send()
                .await
                .map_err(|e| e.to_string())?
                .json()
                .await
                .map_err(|e| e.to_string())?;
            for value in page[key]
                .as_array()
                .ok_or_else(|| format!("{url}: no {key}"))?
            {
                items.push(
                    inlet_inbox::sources::convert::item(kind, value).map_err(|e| e.to_string())?,
                );
            }
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
    }
    Ok(items)
}

fn folder_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum()
}

fn sqlite(items: &[Item], dir: &Path, requests: usize) -> Result<Vec<EngineReport>, String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let index = Index::open(&dir.join("index.sqlite3")).map_err(|e| e.to_string())?;
    let started = Instant::now();
    for batch in items.chunks(500) {
        index.upsert(batch, 1).map_err(|e| e.to_string())?;
    }
    let build = items.len() as f64 / started.elapsed().as_secs_f64();
    let bytes = folder_bytes(dir);
    let now = time::OffsetDateTime::now_utc();
    let mut reports = Vec::new();
    for (case, q) in cases() {
        let query = Query::parse(q, now).map_err(|e| e.to_string())?;
        let mut latencies = Vec::with_capacity(requests);
        let mut rows = 0;
        for _ in 0..requests {
            let started = Instant::now();
            rows = index
                .search(
                    &query,
                    Window::Older {
                        before: None,
                        limit: 51,
                    },
                )
                .map_err(|e| e.to_string())?
                .len();
            latencies.push(started.elapsed());
        }
        reports.push(report(
            "sqlite-fts5",
            case,
            items.len(),
            build,
            bytes,
            rows,
            latencies,
        ));
    }
    Ok(reports)
}

fn tantivy(items: &[Item], dir: &Path, requests: usize) -> Result<Vec<EngineReport>, String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let mut schema = Schema::builder();
    let text = schema.add_text_field("text", TEXT);
    let sender = schema.add_text_field("sender", TEXT);
    let recipients = schema.add_text_field("recipients", TEXT);
    let subject = schema.add_text_field("subject", TEXT);
    let name = schema.add_text_field("name", TEXT);
    let mailbox = schema.add_text_field("mailbox", TEXT);
    let kind = schema.add_text_field("kind", STRING);
    let id = schema.add_text_field("id", STRING | STORED);
    let received = schema.add_i64_field("received_at", INDEXED | FAST);
    let index = tantivy::Index::create_in_dir(dir, schema.build()).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut writer: tantivy::IndexWriter = index.writer(64_000_000).map_err(|e| e.to_string())?;
    for item in items {
        writer
            .add_document(doc!(
                text => format!("{} {}", item.summary, item.text),
                sender => item.from.clone(),
                recipients => item.to.clone(),
                subject => item.subject.clone(),
                name => item.name.clone(),
                mailbox => item.mailbox.clone(),
                kind => item.kind.name(),
                id => item.id.clone(),
                received => item.received_at_ms,
            ))
            .map_err(|e| e.to_string())?;
    }
    writer.commit().map_err(|e| e.to_string())?;
    let reader = index.reader().map_err(|e| e.to_string())?;
    reader.reload().map_err(|e| e.to_string())?;
    let build = items.len() as f64 / started.elapsed().as_secs_f64();
    let bytes = folder_bytes(dir);
    let searcher = reader.searcher();
    let word = |field, prefix: &str| -> Result<Box<dyn tantivy::query::Query>, String> {
        Ok(Box::new(
            RegexQuery::from_pattern(&format!("{prefix}.*"), field).map_err(|e| e.to_string())?,
        ))
    };
    let mut reports = Vec::new();
    for (case, _) in cases() {
        let query: Box<dyn tantivy::query::Query> = match case {
            "term" => Box::new(BooleanQuery::new(
                [text, sender, recipients, subject, name, mailbox]
                    .into_iter()
                    .map(|field| Ok((Occur::Should, word(field, "dublin")?)))
                    .collect::<Result<Vec<_>, String>>()?,
            )),
            "combined" => Box::new(BooleanQuery::new(vec![
                (
                    Occur::Must,
                    Box::new(TermQuery::new(
                        Term::from_field_text(kind, "mail"),
                        IndexRecordOption::Basic,
                    )) as Box<dyn tantivy::query::Query>,
                ),
                (
                    Occur::Must,
                    Box::new(TermQuery::new(
                        Term::from_field_text(sender, "alice"),
                        IndexRecordOption::Basic,
                    )),
                ),
                (
                    Occur::Must,
                    Box::new(RangeQuery::new(
                        std::ops::Bound::Included(Term::from_field_i64(received, 946_684_800_000)),
                        std::ops::Bound::Unbounded,
                    )),
                ),
            ])),
            _ => Box::new(AllQuery),
        };
        let collector =
            TopDocs::with_limit(51).order_by_fast_field::<i64>("received_at", Order::Desc);
        let mut latencies = Vec::with_capacity(requests);
        let mut rows = 0;
        for _ in 0..requests {
            let started = Instant::now();
            let found = searcher
                .search(&*query, &collector)
                .map_err(|e| e.to_string())?;
            // The list needs each row's id: read them as the page would.
            for (_, address) in &found {
                let _: tantivy::TantivyDocument =
                    searcher.doc(*address).map_err(|e| e.to_string())?;
            }
            rows = found.len();
            latencies.push(started.elapsed());
        }
        reports.push(report(
            "tantivy",
            case,
            items.len(),
            build,
            bytes,
            rows,
            latencies,
        ));
    }
    Ok(reports)
}

fn report(
    engine: &'static str,
    case: &str,
    items: usize,
    build_items_per_s: f64,
    index_bytes: u64,
    rows: usize,
    mut latencies: Vec<Duration>,
) -> EngineReport {
    latencies.sort();
    EngineReport {
        protocol: "index-engines",
        engine,
        case: case.to_owned(),
        items,
        build_items_per_s,
        index_bytes,
        rows,
        p50_ms: quantile_ms(&latencies, 0.5),
        p99_ms: quantile_ms(&latencies, 0.99),
    }
}
