//! The CLI's reading of event-feed frames: any text a gateway (or anything
//! posing as one) sends is decoded or skipped, and an event always renders
//! as one line with no control character (nothing it prints can drive
//! the terminal), without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../../services/cli/src/events/frame.rs"]
#[allow(dead_code)]
mod frame;

fuzz_target!(|text: &str| {
    if let Ok(frame::Frame::Event(event)) = serde_json::from_str::<frame::Frame>(text) {
        let line = frame::readable(&event);
        assert!(!line.chars().any(char::is_control), "{line:?}");
    }
});
