//! Lease targets and listen addresses: the first byte picks the kind, the next two the port, the
//! rest is the target (JSON, or `key=value` lines). Whatever is accepted yields a `tsh proxy`
//! command line with no flag in value position, and only loopback listen addresses.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mtcp_shared::domain::{LeaseKind, LeaseTarget, parse_listen_addr};
use mtcp_shared::teleport::proxy::{parse_startup_line, proxy_args};
use serde_json::{Map, Value};

/// Flags a lease may put on the command line, each with its value after `=`.
const FLAGS: &[&str] = &["--db-user=", "--db-name=", "--port="];
/// Flags a lease puts on the command line whatever the target (`proxy db` always tunnels).
const FIXED: &[&str] = &["--tunnel"];

fuzz_target!(|data: &[u8]| {
    let [k, p1, p2, rest @ ..] = data else { return };
    let kind = LeaseKind::ALL[usize::from(*k) % LeaseKind::ALL.len()];
    let port = (*k >= 128).then_some(u16::from_le_bytes([*p1, *p2]));
    let text = String::from_utf8_lossy(rest);
    let target = serde_json::from_str::<Value>(&text).unwrap_or_else(|_| {
        let fields: Map<String, Value> = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
            .collect();
        Value::Object(fields)
    });
    if let Ok(parsed) = LeaseTarget::parse(kind, Some(&target)) {
        let argv = proxy_args(&parsed, port);
        let skip = if kind == LeaseKind::Vnet { 1 } else { 2 };
        for arg in argv[skip..].iter().filter(|a| !FIXED.contains(&a.as_str())) {
            let value = FLAGS.iter().find_map(|f| arg.strip_prefix(f)).unwrap_or(arg);
            assert!(!value.is_empty() && !value.starts_with('-'), "{kind} {target}: {argv:?}");
            assert!(!value.chars().any(|c| c.is_whitespace() || c.is_control()), "{argv:?}");
        }
    }
    if let Ok(addr) = parse_listen_addr(&text) {
        assert!(addr.ip().is_loopback(), "{text:?} → {addr}");
    }
    let _ = parse_startup_line(kind, &text);
});
