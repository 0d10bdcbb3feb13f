//! Redaction of text, JSON and streamed lines: never a panic, redacting twice changes nothing,
//! and a private key streamed line by line never shows a line of its body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mtcp_shared::redact::{LineRedactor, redact_json, redact_text};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let once = redact_text(&text);
    assert_eq!(redact_text(&once), once, "redacting twice changed {text:?}");

    if let Ok(mut v) = serde_json::from_str::<serde_json::Value>(&text) {
        redact_json(&mut v);
        let mut twice = v.clone();
        redact_json(&mut twice);
        assert_eq!(twice, v);
    }

    // The same text as a stream, with a private key spliced in after its first line.
    const BODY: &str = "MIIEowIBAAKCAQEAfuzzbodyLine0001";
    let mut lines = text.lines();
    let mut r = LineRedactor::default();
    let first = lines.next().map(|l| r.line(l));
    r.line("-----BEGIN RSA PRIVATE KEY-----");
    let body = r.line(BODY);
    assert!(!body.contains(BODY), "after {first:?}: {body:?}");
    r.line("-----END RSA PRIVATE KEY-----");
    for line in lines {
        r.line(line);
    }
});
