//! Following the gateway's event feed: an arrival asks for a catch-up of
//! its kind, a deletion or expiry removes items at once. The feed's place
//! (epoch and sequence) is kept in the index, so a restarted inbox asks for
//! what it missed with `since`; when the gateway cannot replay all of it
//! (`recovered: false`) the index is rebuilt.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use inlet_common::access::Secret;
use serde::Deserialize;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

use super::sync::Syncer;
use crate::index::item::Kind;
use crate::metrics::InboxMetrics;

/// Key of the feed's place in the index's meta table: `<epoch> <sequence>`.
const PLACE: &str = "feed_place";

/// First wait before reconnecting; doubled up to `inbox.feed_retry_max`.
const FIRST_RETRY: Duration = Duration::from_millis(100);

/// How often the feed's place is written while events come.
const SAVE_PLACE_EVERY: Duration = Duration::from_millis(250);

/// Longest wait for the gateway to accept the socket.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// One frame of the feed, as far as the inbox reads it.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum Frame {
    Subscribed {
        epoch: String,
        #[serde(default)]
        latest: u64,
        #[serde(default)]
        recovered: bool,
    },
    Event {
        sequence: u64,
        kind: String,
        #[serde(default)]
        time: Option<String>,
        #[serde(default)]
        data: Value,
    },
    #[serde(other)]
    Other,
}

/// Why one connection to the feed ended.
#[derive(Debug, thiserror::Error)]
enum FeedError {
    #[error("the gateway URL cannot be used: {0}")]
    Url(String),
    #[error("could not connect: {0}")]
    Connect(#[from] tokio_tungstenite::tungstenite::Error),
    #[error("no answer from the gateway in {0:?}")]
    Timeout(Duration),
    #[error("the feed closed")]
    Closed,
}

/// Follows the feed at `gateway_url` (the gateway's HTTP base URL) until
/// the task is dropped, reconnecting after every drop.
pub async fn follow(
    syncer: Arc<Syncer>,
    gateway_url: String,
    token: Option<Secret>,
    retry_max: Duration,
    metrics: InboxMetrics,
) {
    let mut wait = FIRST_RETRY;
    loop {
        let result = connection(&syncer, &gateway_url, token.as_ref(), &metrics, &mut wait).await;
        if let Err(err) = result {
            tracing::warn!(error = %err, retry_in_ms = wait.as_millis() as u64, "event feed lost; reconnecting");
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(retry_max);
    }
}

async fn connection(
    syncer: &Arc<Syncer>,
    gateway_url: &str,
    token: Option<&Secret>,
    metrics: &InboxMetrics,
    wait: &mut Duration,
) -> Result<(), FeedError> {
    let place = syncer
        .blocking(|index| index.meta(PLACE))
        .await
        .ok()
        .flatten()
        .and_then(|text| {
            let (epoch, sequence) = text.split_once(' ')?;
            Some((epoch.to_owned(), sequence.parse::<u64>().ok()?))
        });
    let mut url = reqwest::Url::parse(gateway_url).map_err(|e| FeedError::Url(e.to_string()))?;
    let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
    url.set_scheme(scheme)
        .map_err(|()| FeedError::Url(gateway_url.to_owned()))?;
    url.set_path("/events");
    if let Some((epoch, sequence)) = &place {
        url.query_pairs_mut()
            .append_pair("since", &sequence.to_string())
            .append_pair("epoch", epoch);
    }
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(FeedError::Connect)?;
    if let Some(token) = token {
        let value = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
            .map_err(|_| FeedError::Url("the admin token is not a header value".into()))?;
        request.headers_mut().insert("authorization", value);
    }
    let (mut socket, _) =
        tokio::time::timeout(CONNECT_TIMEOUT, tokio_tungstenite::connect_async(request))
            .await
            .map_err(|_| FeedError::Timeout(CONNECT_TIMEOUT))??;
    let mut epoch = place.as_ref().map(|(epoch, _)| epoch.clone());
    let mut unsaved: Option<String> = None;
    let mut saved_at = std::time::Instant::now();
    while let Some(message) = socket.next().await {
        let text = match message? {
            Message::Text(text) => text,
            Message::Close(_) => break,
            _ => continue,
        };
        let Ok(frame) = serde_json::from_str::<Frame>(&text) else {
            tracing::warn!("a feed frame the inbox cannot read was skipped");
            continue;
        };
        match frame {
            Frame::Subscribed {
                epoch: new_epoch,
                latest,
                recovered,
            } => {
                *wait = FIRST_RETRY;
                // With a place kept, a gap the gateway cannot replay needs a
                // rebuild. Without one (a new index, just rebuilt), what
                // arrived between that listing and now is caught up.
                let missed = place.is_some() && !recovered;
                tracing::info!(epoch = %new_epoch, recovered, rebuild = missed, "following the event feed");
                if place.is_none() {
                    let start = format!("{new_epoch} {latest}");
                    let _ = syncer
                        .blocking(move |index| index.set_meta(PLACE, &start))
                        .await;
                    for kind in syncer.api().kinds() {
                        syncer.poke(kind);
                    }
                }
                epoch = Some(new_epoch);
                if missed {
                    let syncer = Arc::clone(syncer);
                    tokio::spawn(async move {
                        if let Err(err) = syncer.rebuild().await {
                            tracing::warn!(error = %err, "rebuild after a feed gap failed");
                        }
                    });
                }
            }
            Frame::Event {
                sequence,
                kind,
                time,
                data,
            } => {
                metrics.feed_events.inc();
                if let Some(lag) = time.as_deref().and_then(lag_of) {
                    metrics.feed_lag_seconds.observe(lag);
                }
                handle(syncer, &kind, &data).await;
                if let Some(epoch) = &epoch {
                    unsaved = Some(format!("{epoch} {sequence}"));
                }
                // The place is written a few times a second, not once an
                // event: a restart replays at most that much, harmlessly.
                if saved_at.elapsed() >= SAVE_PLACE_EVERY {
                    save_place(syncer, unsaved.take()).await;
                    saved_at = std::time::Instant::now();
                }
            }
            Frame::Other => {}
        }
    }
    save_place(syncer, unsaved).await;
    Err(FeedError::Closed)
}

/// Keeps `place` (`<epoch> <sequence>`) in the index, when there is one.
async fn save_place(syncer: &Syncer, place: Option<String>) {
    if let Some(place) = place {
        if let Err(err) = syncer
            .blocking(move |index| index.set_meta(PLACE, &place))
            .await
        {
            tracing::warn!(error = %err, "the feed's place could not be kept");
        }
    }
}

/// What one event does to the index.
async fn handle(syncer: &Syncer, kind: &str, data: &Value) {
    let text = |key: &str| data.get(key).and_then(Value::as_str).map(str::to_owned);
    // A file is fetched by the stored name its event names: one stat at
    // uploads, where its list must read the whole folder. Submissions and
    // mail are caught up by their lists instead: one newest-first page
    // covers many arrivals for less than a lookup each (forms finds one
    // submission by searching its journal; smtp reads its whole folder).
    let arrived = match kind {
        "form_submitted" => Some((Kind::Submission, None)),
        "file_stored" => Some((Kind::File, text("stored_name"))),
        "mail_received" => Some((Kind::Mail, None)),
        _ => None,
    };
    if let Some((kind, id)) = arrived {
        match id {
            Some(id) => syncer.arrived(kind, id),
            None => syncer.poke(kind),
        }
        return;
    }
    let result = match kind {
        "submission_deleted" => match text("submission_id") {
            Some(id) => syncer.remove(Kind::Submission, id).await.map(drop),
            None => Ok(()),
        },
        "submissions_expired" => match text("last_submission_id") {
            Some(id) => syncer.remove_submissions_up_to(id).await.map(drop),
            None => Ok(()),
        },
        "file_deleted" => match text("stored_name") {
            Some(id) => syncer.remove(Kind::File, id).await.map(drop),
            None => Ok(()),
        },
        "mail_deleted" => match text("message_id") {
            Some(id) => syncer.remove(Kind::Mail, id).await.map(drop),
            None => Ok(()),
        },
        _ => Ok(()),
    };
    if let Err(err) = result {
        tracing::warn!(event.kind = kind, error = %err, "a feed event could not be applied; the next rebuild will");
    }
}

/// Seconds from `time` (RFC 3339) to now, when it is in the past.
fn lag_of(time: &str) -> Option<f64> {
    let at = OffsetDateTime::parse(time, &Rfc3339).ok()?;
    let lag = (OffsetDateTime::now_utc() - at).as_seconds_f64();
    (lag >= 0.0).then_some(lag)
}
