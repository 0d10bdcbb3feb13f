//! Lenient access to raw event fields: every field is optional and shapes differ by version.

use serde_json::Value;

/// A non-empty string field.
pub(crate) fn str_field<'a>(raw: &'a Value, key: &str) -> Option<&'a str> {
    raw.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
}

/// A non-empty string at a path of keys.
pub(crate) fn str_path<'a>(raw: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut v = raw;
    for key in path {
        v = v.get(key)?;
    }
    v.as_str().map(str::trim).filter(|s| !s.is_empty())
}

/// A list of strings: an array (non-strings ignored) or a single string; None when absent.
pub(crate) fn str_list(raw: &Value, key: &str) -> Option<Vec<String>> {
    match raw.get(key)? {
        Value::Array(items) => Some(items.iter().filter_map(Value::as_str).map(str::to_owned).collect()),
        Value::String(s) => Some(vec![s.clone()]),
        _ => None,
    }
}

/// Whether an access-request state is APPROVED: the name in audit events, 2 in resource JSON.
pub(crate) fn is_approved(v: Option<&Value>) -> bool {
    match v {
        Some(Value::String(s)) => s.eq_ignore_ascii_case("approved"),
        Some(Value::Number(n)) => n.as_u64() == Some(2),
        _ => false,
    }
}

/// The IP of an `addr.remote` (`ip:port`, `[v6]:port`, or a bare address): the port is dropped.
/// Mirrors the SQL expression of `db::audit` so top sources and brute-force subjects agree.
pub fn source_ip(addr: &str) -> String {
    let addr = addr.trim();
    if let Some(rest) = addr.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((ip, _)) if !ip.is_empty() => ip.to_owned(),
            _ => addr.to_owned(),
        };
    }
    match addr.split_once(':') {
        Some((ip, port))
            if !ip.is_empty()
                && !port.contains(':')
                && !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit()) =>
        {
            ip.to_owned()
        }
        _ => addr.to_owned(),
    }
}
