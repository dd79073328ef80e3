//! The event feed on NATS JetStream (`events.backend = "nats"`): what the
//! publishers and the gateway share. One stream holds every event, one
//! subject per kind (`<subject_prefix>.<topic>.<kind>`, so one topic is one
//! `<prefix>.<topic>.>` filter); each message is the protobuf `Event` with
//! `Nats-Msg-Id: <kind>:<id>` (a retried publish is stored once, within the
//! stream's duplicate window) and the W3C trace context in its headers.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::stream;
use inlet_proto::events::v1::{event::Kind, Event};
use inlet_proto::kinds::{kind_name, Topic};
use opentelemetry::propagation::{Extractor, Injector};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::config::{check, check_nonzero, ConfigProblem};

/// Where the event feed is kept: the `events.backend` key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeedBackend {
    /// The gateway's in-memory ring; publishers call its gRPC ingest.
    #[default]
    Memory,
    /// A NATS JetStream stream; publishers publish to it directly and every
    /// gateway replica follows it.
    Nats,
}

/// The `[events.nats]` table: the server and the stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NatsSettings {
    /// The server (`nats://nats:4222`; several, comma-separated, for a cluster).
    pub url: String,
    /// The stream's name.
    pub stream: String,
    /// Subjects are `<subject_prefix>.<topic>.<kind>`.
    pub subject_prefix: String,
    /// Events older than this leave the stream (`7d`, `12h`); the gateway
    /// applies it when it starts.
    #[serde(with = "crate::retention::duration")]
    pub max_age: Duration,
    /// Most bytes the stream keeps; the oldest events go first.
    pub max_bytes: i64,
    /// Most events the stream keeps; the oldest go first.
    pub max_messages: i64,
    /// How long JetStream remembers a message id, so a publish retried
    /// within it is stored once.
    #[serde(with = "crate::retention::duration")]
    pub duplicate_window: Duration,
    /// Time to wait for the server to acknowledge one publish, or answer a
    /// request.
    pub request_timeout_ms: u64,
}

impl Default for NatsSettings {
    fn default() -> Self {
        Self {
            url: "nats://127.0.0.1:4222".into(),
            stream: "INLET_EVENTS".into(),
            subject_prefix: "inlet.events".into(),
            max_age: Duration::from_secs(7 * 24 * 3600),
            max_bytes: 1024 * 1024 * 1024,
            max_messages: 10_000_000,
            duplicate_window: Duration::from_secs(120),
            request_timeout_ms: 5_000,
        }
    }
}

/// The `[events]` keys a publishing service reads (the gateway's own
/// `[events]` table has these two and more).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FeedSettings {
    /// `memory` (publish to the gateway's gRPC ingest, `gateway_url`) or
    /// `nats` (publish to the stream in `events.nats`).
    pub backend: FeedBackend,
    /// The stream, when `backend` is `nats`.
    pub nats: NatsSettings,
}

impl NatsSettings {
    /// Adds a problem for each bad key.
    pub fn validate(&self, problems: &mut Vec<ConfigProblem>) {
        check_nonzero(
            problems,
            &[
                ("events.nats.request_timeout_ms", self.request_timeout_ms),
                ("events.nats.max_bytes", self.max_bytes.max(0) as u64),
                ("events.nats.max_messages", self.max_messages.max(0) as u64),
                ("events.nats.max_age", self.max_age.as_secs()),
            ],
        );
        check(
            problems,
            !self.url.trim().is_empty(),
            "events.nats.url",
            "must name the NATS server, e.g. nats://nats:4222",
        );
        check(
            problems,
            is_token(&self.stream),
            "events.nats.stream",
            "must be a name of letters, digits, `-` and `_`",
        );
        check(
            problems,
            !self.subject_prefix.is_empty() && self.subject_prefix.split('.').all(is_token),
            "events.nats.subject_prefix",
            "must be dot-separated names of letters, digits, `-` and `_`",
        );
        check(
            problems,
            !self.duplicate_window.is_zero() && self.duplicate_window <= self.max_age,
            "events.nats.duplicate_window",
            "must be more than 0 and at most events.nats.max_age",
        );
    }

    /// The subject events of `kind` are published on.
    pub fn subject_of(&self, kind: &Kind) -> String {
        format!(
            "{}.{}.{}",
            self.subject_prefix,
            Topic::of(kind).name(),
            kind_name(kind)
        )
    }

    /// The filter for one topic's events.
    pub fn topic_filter(&self, topic: Topic) -> String {
        format!("{}.{}.>", self.subject_prefix, topic.name())
    }

    /// The stream as the gateway creates or updates it.
    pub fn stream_config(&self) -> stream::Config {
        stream::Config {
            name: self.stream.clone(),
            description: Some("Inlet's event feed: every arrival and deletion".into()),
            subjects: vec![format!("{}.>", self.subject_prefix)],
            retention: stream::RetentionPolicy::Limits,
            storage: stream::StorageType::File,
            discard: stream::DiscardPolicy::Old,
            max_age: self.max_age,
            max_bytes: self.max_bytes,
            max_messages: self.max_messages,
            duplicate_window: self.duplicate_window,
            ..Default::default()
        }
    }

    /// How long one request may take.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    /// A client that connects in the background and reconnects for ever:
    /// nothing waits on the server being up. `name` says who it is in the
    /// server's connection list; `connected`, if given, wakes its waiters
    /// each time the connection is (re)made. Losing and regaining the server
    /// are logged as warnings and notices.
    pub async fn connect(
        &self,
        name: &str,
        connected: Option<Arc<Notify>>,
    ) -> Result<async_nats::Client, async_nats::ConnectError> {
        let url = self.url.clone();
        async_nats::ConnectOptions::new()
            .event_callback(move |event| {
                let (url, connected) = (url.clone(), connected.clone());
                async move {
                    match event {
                        async_nats::Event::Connected => {
                            tracing::info!(nats.url = %url, "connected to NATS");
                            if let Some(connected) = connected {
                                connected.notify_waiters();
                            }
                        }
                        async_nats::Event::Disconnected => {
                            tracing::warn!(nats.url = %url, "lost NATS; reconnecting");
                        }
                        other => {
                            tracing::debug!(nats.url = %url, event = %other, "NATS client event")
                        }
                    }
                }
            })
            .name(name)
            .retry_on_initial_connect()
            .connection_timeout(self.request_timeout())
            .request_timeout(Some(self.request_timeout()))
            .max_reconnects(None)
            .connect(self.url.as_str())
            .await
    }

    /// A JetStream context on `client`, each request bounded by `request_timeout_ms`.
    pub fn jetstream(&self, client: async_nats::Client) -> async_nats::jetstream::Context {
        async_nats::jetstream::ContextBuilder::new()
            .timeout(self.request_timeout())
            .ack_timeout(self.request_timeout())
            .build(client)
    }
}

/// A stream, consumer or subject name part: letters, digits, `-`, `_`.
fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The message id that makes a retried publish of `event` land once:
/// its kind and the item's id.
pub fn message_id(event: &Event) -> String {
    let kind = event.kind.as_ref().map_or("unknown", kind_name);
    format!("{kind}:{}", event.id)
}

/// The stream's epoch as `/events` names it: the stream and when it was
/// created, so it changes only when the stream is made anew.
pub fn epoch_of(info: &stream::Info) -> String {
    format!(
        "{}-{}",
        info.config.name,
        info.created.unix_timestamp_nanos()
    )
}

/// Writes `context` (`traceparent`, `tracestate`) into message headers.
pub fn inject(context: &opentelemetry::Context, headers: &mut async_nats::HeaderMap) {
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(context, &mut HeaderInjector(headers))
    });
}

/// The trace context message headers carry (empty when none).
pub fn extract(headers: Option<&async_nats::HeaderMap>) -> opentelemetry::Context {
    let Some(headers) = headers else {
        return opentelemetry::Context::new();
    };
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&HeaderExtractor(headers))
    })
}

struct HeaderInjector<'a>(&'a mut async_nats::HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key, value.as_str());
    }
}

struct HeaderExtractor<'a>(&'a async_nats::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|v| v.as_str())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(k, _)| k.as_ref()).collect()
    }
}

#[cfg(test)]
mod tests {
    use inlet_proto::events::v1::{FileDeleted, FormSubmitted};

    use super::*;

    #[test]
    fn subjects_are_per_topic_and_kind_and_ids_per_item_and_kind() {
        let nats = NatsSettings::default();
        let form = Kind::FormSubmitted(FormSubmitted::default());
        assert_eq!(nats.subject_of(&form), "inlet.events.forms.form_submitted");
        let deleted = Kind::FileDeleted(FileDeleted::default());
        assert_eq!(
            nats.subject_of(&deleted),
            "inlet.events.uploads.file_deleted"
        );
        assert_eq!(nats.topic_filter(Topic::Mail), "inlet.events.mail.>");
        let event = Event {
            id: "0199".into(),
            kind: Some(deleted),
            ..Event::default()
        };
        assert_eq!(message_id(&event), "file_deleted:0199");
    }

    #[test]
    fn bad_keys_are_named() {
        let nats = NatsSettings {
            url: " ".into(),
            stream: "has space".into(),
            subject_prefix: "a..b".into(),
            duplicate_window: Duration::from_secs(30 * 24 * 3600),
            ..NatsSettings::default()
        };
        let mut problems = Vec::new();
        nats.validate(&mut problems);
        let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "events.nats.url",
                "events.nats.stream",
                "events.nats.subject_prefix",
                "events.nats.duplicate_window"
            ]
        );
        let mut none = Vec::new();
        NatsSettings::default().validate(&mut none);
        assert!(none.is_empty(), "{none:?}");
    }
}
