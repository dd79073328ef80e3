//! Arrivals by id: where a service finds one item far more cheaply than it
//! lists its newest (uploads: one stat against a read of the whole
//! folder), the inbox fetches just the item the feed names and writes it,
//! many at a time. An item it cannot fetch is left to a catch-up of its
//! kind. Which kinds come this way is the feed's choice (see `feed`).

use std::sync::Arc;

use futures_util::StreamExt;
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use super::api::{ServiceApi, SourceError};
use super::convert;
use super::sync::{Change, Syncer};
use crate::index::item::{Item, Kind};

/// Items fetched at once.
const FETCHING: usize = 16;

/// Items written to the index in one transaction at most.
const WRITE_BATCH: usize = 256;

/// Arrivals waiting to be fetched; past this, a catch-up of the kind
/// stands for the rest.
pub const QUEUE: usize = 4096;

/// The keys of a mail's summary: what its list item holds. A mail fetched
/// by id comes parsed whole; only these are kept, in this order, so it is
/// indexed exactly as listing it would.
const MAIL_SUMMARY_KEYS: [&str; 10] = [
    "id",
    "received_at",
    "trace_id",
    "size",
    "mailbox",
    "from",
    "to",
    "subject",
    "date",
    "attachment_count",
];

/// Fetches each arrival `queue` names and writes what it finds, until the
/// queue closes.
pub async fn follow(syncer: Arc<Syncer>, queue: mpsc::Receiver<(Kind, String)>) {
    let (found, mut written) = mpsc::channel::<Item>(WRITE_BATCH * 4);
    let fetching = {
        let (for_fetch, syncer) = (Arc::clone(&syncer), Arc::clone(&syncer));
        tokio_stream::wrappers::ReceiverStream::new(queue)
            .map(move |(kind, id)| {
                let syncer = Arc::clone(&for_fetch);
                async move { (kind, fetch(syncer.api(), kind, &id).await) }
            })
            .buffer_unordered(FETCHING)
            .for_each(move |(kind, fetched)| {
                let (syncer, found) = (Arc::clone(&syncer), found.clone());
                async move {
                    match fetched {
                        Ok(Some(item)) => {
                            let _ = found.send(item).await;
                        }
                        // Deleted before it could be read: nothing to show.
                        Ok(None) => {}
                        Err(err) => {
                            tracing::debug!(kind = kind.name(), error = %err, "an arrival could not be fetched; catching up instead");
                            syncer.poke(kind);
                        }
                    }
                }
            })
    };
    let writing = async {
        let mut batch = Vec::with_capacity(WRITE_BATCH);
        while written.recv_many(&mut batch, WRITE_BATCH).await > 0 {
            let items = std::mem::take(&mut batch);
            match syncer.write(items).await {
                Ok(added) if added > 0 => syncer.changed(Change::Added),
                Ok(_) => {}
                Err(err) => {
                    tracing::warn!(error = %err, "arrivals could not be written to the index")
                }
            }
        }
    };
    tokio::join!(fetching, writing);
}

/// One item by its id, as its list would give it; `None` when its service
/// has no such item.
async fn fetch(api: &ServiceApi, kind: Kind, id: &str) -> Result<Option<Item>, FetchError> {
    let rest = match kind {
        Kind::File => "/meta",
        Kind::Submission | Kind::Mail => "",
    };
    let Some(mut value) = api.get_json(kind, id, rest).await? else {
        return Ok(None);
    };
    if kind == Kind::Mail {
        value = summary_of(value);
    }
    Ok(Some(convert::item(kind, &value)?))
}

/// Why an arrival could not be fetched.
#[derive(Debug, thiserror::Error)]
enum FetchError {
    /// Its service failed.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// Its service answered with something the inbox cannot index.
    #[error(transparent)]
    Convert(#[from] convert::ConvertError),
}

/// A parsed mail cut to its summary's keys.
fn summary_of(value: Value) -> Value {
    let Value::Object(mut parsed) = value else {
        return value;
    };
    let mut summary = Map::new();
    for key in MAIL_SUMMARY_KEYS {
        if let Some(field) = parsed.remove(key) {
            summary.insert(key.to_owned(), field);
        }
    }
    Value::Object(summary)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_parsed_mail_is_cut_to_its_summary_in_the_lists_order() {
        let parsed = json!({"id": "ab", "received_at": "t", "trace_id": null, "size": 9, "mailbox": "you",
            "from": [], "to": [], "subject": "s", "date": null, "attachment_count": 0,
            "cc": [], "headers": [], "text": "body", "html": null, "attachments": []});
        let summary = summary_of(parsed);
        assert_eq!(
            summary.to_string(),
            r#"{"id":"ab","received_at":"t","trace_id":null,"size":9,"mailbox":"you","from":[],"to":[],"subject":"s","date":null,"attachment_count":0}"#
        );
    }
}
