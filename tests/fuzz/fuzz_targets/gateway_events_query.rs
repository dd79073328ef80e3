//! `/events?topics=…&since=…&epoch=…` as actix decodes it: never panics;
//! an accepted query names only known topics.
#![no_main]

use inlet_gateway::ws::events::EventsQuery;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|query: &[u8]| {
    let Ok(parsed) = serde_urlencoded::from_bytes::<EventsQuery>(query) else {
        return;
    };
    if let Ok(wanted) = parsed.parse() {
        for topic in wanted.topics.iter() {
            assert!(["forms", "uploads", "mail"].contains(&topic.name()));
        }
    }
});
