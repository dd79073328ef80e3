//! Events survive the wire: what is encoded decodes to the same event.

use inlet_proto::events::v1::{event, Event, FileStored, PublishRequest};
use prost::Message;

#[test]
fn an_event_round_trips_through_its_encoding() {
    let event = Event {
        id: "0190f0a0-0000-7000-8000-000000000001".into(),
        time: Some(prost_types::Timestamp {
            seconds: 1_764_000_000,
            nanos: 5,
        }),
        source: "inlet-uploads".into(),
        truncated: true,
        trace_id: "4bf92f3577b34da6a3ce929d0e0e4736".into(),
        kind: Some(event::Kind::FileStored(FileStored {
            stored_name: "userfile1-1764000000000-a.txt".into(),
            original_name: "a.txt".into(),
            field: "userfile1".into(),
            size: 6,
            sha256: "ab".repeat(32),
        })),
    };
    let request = PublishRequest {
        event: Some(event.clone()),
    };
    let bytes = request.encode_to_vec();
    let decoded = PublishRequest::decode(bytes.as_slice()).unwrap();
    assert_eq!(decoded.event, Some(event));
}
