//! SMTP command lines before samotop sees them: rewriting and the
//! parameter check never panic, and a rewritten line is one CRLF-ended line.
#![no_main]

use inlet_smtp::engine::loose::prepare;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|line: &[u8]| {
    let rewritten = match prepare(line, std::net::IpAddr::from([192, 0, 2, 1])) {
        Ok(rewritten) => rewritten,
        Err(reply) => {
            let reply = reply.line();
            assert!(reply.starts_with("501 ") || reply.starts_with("555 "));
            assert!(reply.ends_with("\r\n") && reply.matches('\n').count() == 1);
            return;
        }
    };
    if std::str::from_utf8(line).is_ok() && !line[..line.len().saturating_sub(2)].contains(&b'\n') {
        assert!(rewritten.ends_with(b"\r\n"), "{:?}", String::from_utf8_lossy(&rewritten));
    }
});
