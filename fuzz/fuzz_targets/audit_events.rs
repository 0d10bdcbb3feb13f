//! Audit events from Teleport (`parse_audit_events`) and from the ingest endpoint (`parse_batch`):
//! any body is parsed or refused, never a panic; every stored row is redacted and bounded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mtcp_shared::ingest::parse_batch;
use mtcp_shared::teleport::parse::parse_audit_events;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = parse_audit_events(&text);
    if let Ok(batch) = parse_batch(&text) {
        for row in &batch.events {
            assert!(!row.uid.is_empty() && row.uid.len() <= 128, "uid {:?}", row.uid);
            assert!(!row.event.is_empty() && row.event.len() <= 128, "event {:?}", row.event);
            for text in [&row.user, &row.remote_addr, &row.cluster].into_iter().flatten() {
                assert!(text.len() <= 512, "{} bytes stored", text.len());
            }
        }
    }
});
