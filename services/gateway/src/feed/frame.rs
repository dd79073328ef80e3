//! The JSON text frames `/events` sends (docs/gateway.md, "Event feed frames").
//!
//! Every frame is an object with a `type`:
//! - `subscribed`, first: the gateway's `epoch`, the `topics` followed, the
//!   `latest` sequence, how many missed events are `replayed` next, and
//!   whether the replay is `recovered` (complete: nothing the subscriber
//!   missed has fallen out of the history).
//! - `event`, one per arrival: `sequence`, `topic`, `id`, `time`, `source`,
//!   `kind`, the `trace_id` that stored the item, and the kind's fields in `data`.

use inlet_proto::events::v1::{event::Kind, Event};
use inlet_proto::kinds;
use serde::Serialize;
use serde_json::json;

use super::topic::{Topic, TopicSet};

/// Everything of an event frame after its `sequence`, rendered once, before
/// the event has a sequence: `,"topic":…}`.
pub fn event_tail(topic: Topic, event: &Event) -> String {
    #[derive(Serialize)]
    struct Tail<'a> {
        topic: &'static str,
        id: &'a str,
        time: Option<String>,
        source: &'a str,
        kind: &'static str,
        /// The trace that stored the item (as the item itself says).
        #[serde(skip_serializing_if = "str::is_empty")]
        trace_id: &'a str,
        data: serde_json::Value,
        /// Only when the publisher cut names or lists to fit its bound.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        truncated: bool,
    }
    let (kind, data) = match &event.kind {
        Some(Kind::FormSubmitted(form)) => (
            kinds::FORM_SUBMITTED,
            json!({
                "submission_id": form.submission_id,
                "content_type": form.content_type,
                "field_names": form.field_names,
                "size": form.size,
            }),
        ),
        Some(Kind::FileStored(file)) => (
            kinds::FILE_STORED,
            json!({
                "stored_name": file.stored_name,
                "original_name": file.original_name,
                "field": file.field,
                "size": file.size,
                "sha256": file.sha256,
            }),
        ),
        Some(Kind::MailReceived(mail)) => (
            kinds::MAIL_RECEIVED,
            json!({
                "sender": mail.sender,
                "recipients": mail.recipients,
                "size": mail.size,
                "mailbox_paths": mail.mailbox_paths,
                "message_ids": mail.message_ids,
            }),
        ),
        Some(Kind::SubmissionDeleted(deleted)) => (
            kinds::SUBMISSION_DELETED,
            json!({ "submission_id": deleted.submission_id }),
        ),
        Some(Kind::SubmissionsExpired(expired)) => (
            kinds::SUBMISSIONS_EXPIRED,
            json!({
                "count": expired.count,
                "last_submission_id": expired.last_submission_id,
                "reason": expired.reason,
            }),
        ),
        Some(Kind::FileDeleted(file)) => (
            kinds::FILE_DELETED,
            json!({ "stored_name": file.stored_name, "reason": file.reason }),
        ),
        Some(Kind::MailDeleted(mail)) => (
            kinds::MAIL_DELETED,
            json!({
                "message_id": mail.message_id,
                "mailbox": mail.mailbox,
                "reason": mail.reason,
            }),
        ),
        None => ("unknown", serde_json::Value::Null),
    };
    let tail = Tail {
        topic: topic.name(),
        id: &event.id,
        time: event.time.as_ref().and_then(rfc3339),
        source: &event.source,
        kind,
        trace_id: &event.trace_id,
        data,
        truncated: event.truncated,
    };
    let object = serde_json::to_string(&tail).expect("a frame always serialises");
    // `{"topic":…}` → `,"topic":…}`: the head goes in front once sequenced.
    format!(",{}", &object[1..])
}

/// The whole event frame: `{"type":"event","sequence":N,"topic":…}`.
pub fn event(sequence: u64, tail: &str) -> String {
    format!(r#"{{"type":"event","sequence":{sequence}{tail}"#)
}

/// What the `subscribed` frame says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscribed<'a> {
    /// This gateway run's id; sequences restart with a new one.
    pub epoch: &'a str,
    /// What the subscriber follows.
    pub topics: TopicSet,
    /// The last sequence given out when the subscription began (0: none yet).
    pub latest: u64,
    /// Events replayed right after this frame.
    pub replayed: usize,
    /// Whether the replay holds everything missed since `since`.
    pub recovered: bool,
}

/// The first frame of every `/events` socket.
pub fn subscribed(s: &Subscribed<'_>) -> String {
    let topics: Vec<&str> = s.topics.iter().map(Topic::name).collect();
    json!({
        "type": "subscribed",
        "epoch": s.epoch,
        "topics": topics,
        "latest": s.latest,
        "replayed": s.replayed,
        "recovered": s.recovered,
    })
    .to_string()
}

fn rfc3339(at: &prost_types::Timestamp) -> Option<String> {
    let nanos = i128::from(at.seconds) * 1_000_000_000 + i128::from(at.nanos);
    let time = time::OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()?;
    Some(inlet_common::record::rfc3339(time))
}

#[cfg(test)]
mod tests {
    use inlet_proto::events::v1::FileStored;

    use super::*;

    #[test]
    fn an_event_frame_is_one_json_object_with_its_sequence_first() {
        let event = Event {
            id: "0190-abc".into(),
            time: Some(prost_types::Timestamp {
                seconds: 1_700_000_000,
                nanos: 5_000_000,
            }),
            source: "inlet-uploads".into(),
            kind: Some(Kind::FileStored(FileStored {
                stored_name: "a.txt".into(),
                original_name: "a.txt".into(),
                field: "userfile1".into(),
                size: 3,
                sha256: "ab".into(),
            })),
            ..Event::default()
        };
        let text = super::event(42, &event_tail(Topic::Uploads, &event));
        assert!(
            text.starts_with(r#"{"type":"event","sequence":42,"topic":"uploads""#),
            "{text}"
        );
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["kind"], "file_stored");
        assert_eq!(value["data"]["size"], 3);
        assert_eq!(value["time"], "2023-11-14T22:13:20.005Z");
        assert!(value.get("truncated").is_none(), "only cut events say so");
        let cut = Event {
            truncated: true,
            ..event
        };
        let text = super::event(43, &event_tail(Topic::Uploads, &cut));
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["truncated"], true);
    }
}
