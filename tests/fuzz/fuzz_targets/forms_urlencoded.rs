//! forms' urlencoded parser: never panics, never returns more fields than
//! it was allowed, and what it returns is text.
#![no_main]

use libfuzzer_sys::fuzz_target;

const MAX_FIELDS: usize = 64;

fuzz_target!(|body: &[u8]| {
    if let Ok(fields) = inlet_forms::urlencoded::parse(body, MAX_FIELDS) {
        assert!(fields.len() <= MAX_FIELDS);
        // Whatever it accepted renders as the JSON the journal stores. (Read
        // back as serde::de::IgnoredAny, not serde_json::Value: with
        // serde_json's raw_value feature, an object whose first key is
        // `$serde_json::private::RawValue` does not read back as a Value,
        // though it is valid JSON; the first crash this target found.)
        let rendered = serde_json::to_string(&fields).unwrap();
        assert!(serde_json::from_str::<serde::de::IgnoredAny>(&rendered).is_ok());
    }
});
