//! forms' JSON validation agrees with serde_json: what it accepts parses,
//! and what serde_json refuses it refuses too; the depth limit holds.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let Ok(text) = std::str::from_utf8(body) else {
        return;
    };
    let parsed = serde_json::from_str::<serde::de::IgnoredAny>(text);
    match inlet_forms::json_body::validate(text, 16) {
        Ok(_) => assert!(parsed.is_ok(), "accepted what serde_json refuses: {text:?}"),
        Err(_) => {}
    }
    if parsed.is_err() {
        assert!(inlet_forms::json_body::validate(text, inlet_forms::json_body::MAX_SUPPORTED_DEPTH).is_err());
    }
    let _ = inlet_forms::json_body::single_line(text);
});
