//! Audit-event ingestion: a request body or an export file (one JSON event, a JSON array, or
//! lines, each a JSON event or a fluentd `out_file` line `<time>\t<tag>\t<json>`, detected per
//! line) → validated, redacted rows. A malformed event is rejected with its reason (and line) and
//! never stops the rest of the batch.

use serde::Serialize;
use serde_json::Value;

use crate::db::audit::NewAuditEvent;
use crate::redact::{redact_json, redact_text};
use crate::teleport::models::AuditEvent;

/// An event that was not accepted, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejection {
    /// Position in the batch (0-based).
    pub index: usize,
    /// Line of the body (1-based) when it was read line by line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub reason: String,
    /// The input was not an event at all (neither JSON nor an out_file line), as opposed to an
    /// event that lacks a field.
    #[serde(skip)]
    pub unreadable: bool,
}

/// The usable events of a batch and the rejected ones.
#[derive(Debug, Default)]
pub struct Batch {
    pub events: Vec<NewAuditEvent>,
    pub rejected: Vec<Rejection>,
}

/// Parse a body. Only a body with no event in it at all is an error.
pub fn parse_batch(text: &str) -> Result<Batch, String> {
    let text = text.trim_start_matches('\u{feff}').trim();
    if text.is_empty() {
        return Err("the body is empty; send one JSON event, a JSON array of events, or JSON lines".into());
    }
    let items: Vec<(Option<usize>, Result<Value, String>)> = match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) => items.into_iter().map(|v| (None, Ok(v))).collect(),
        Ok(single) => vec![(None, Ok(single))],
        // Not one JSON document: lines, each judged on its own.
        Err(_) => text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(n, l)| (Some(n + 1), parse_line(l)))
            .collect(),
    };
    let mut batch = Batch::default();
    for (index, (line, item)) in items.into_iter().enumerate() {
        let unreadable = item.is_err();
        match item.and_then(to_row) {
            Ok(row) => batch.events.push(row),
            Err(reason) => batch.rejected.push(Rejection { index, line, reason, unreadable }),
        }
    }
    if batch.events.is_empty() && batch.rejected.is_empty() {
        return Err("the body holds no event".into());
    }
    Ok(batch)
}

/// One line: a JSON event, or fluentd `out_file`'s default format `<time>\t<tag>\t<json>` (the
/// record is the last field; JSON escapes tabs inside strings, so the split is unambiguous).
fn parse_line(line: &str) -> Result<Value, String> {
    let line = line.trim_end_matches('\r');
    let json = if line.trim_start().starts_with('{') {
        line
    } else {
        match line.splitn(3, '\t').collect::<Vec<_>>()[..] {
            [_, _, record] if record.trim_start().starts_with('{') => record,
            _ => {
                return Err("neither a JSON event nor a fluentd out_file line (`<time>\\t<tag>\\t<json>`)".into());
            }
        }
    };
    serde_json::from_str::<Value>(json).map_err(|e| format!("not JSON: {e}"))
}

/// How far ahead of our clock an event may be dated: Teleport's clocks and ours drift apart a
/// little. Beyond it an event is refused: retention deletes by age, so an event dated years ahead
/// would stay in every window (and in every finding) until then.
const MAX_CLOCK_SKEW: chrono::Duration = chrono::Duration::minutes(5);

fn clean(s: &str) -> bool {
    !s.is_empty() && s.len() <= 128 && !s.chars().any(char::is_control)
}

/// One event → a row: uid, time and event type required; everything stored is redacted.
fn to_row(raw: Value) -> Result<NewAuditEvent, String> {
    let e = AuditEvent::from_value(raw)?;
    if !clean(&e.uid) {
        return Err("missing or invalid `uid` (1-128 printable characters)".into());
    }
    let Some(time) = e.time else {
        return Err(format!("event {}: missing or invalid `time` (RFC 3339)", e.uid));
    };
    let latest = chrono::Utc::now() + MAX_CLOCK_SKEW;
    if time > latest {
        return Err(format!(
            "event {}: `time` {} is in the future (more than {} minutes ahead of this server's clock)",
            e.uid,
            time.to_rfc3339(),
            MAX_CLOCK_SKEW.num_minutes()
        ));
    }
    if !clean(&e.event) {
        return Err(format!("event {}: missing or invalid `event`", e.uid));
    }
    let mut raw = e.raw;
    redact_json(&mut raw);
    let text = |v: Option<String>| v.map(|s| redact_text(&s)).filter(|s| s.len() <= 512);
    Ok(NewAuditEvent {
        uid: e.uid,
        time,
        event: e.event,
        code: Some(e.code).filter(|c| !c.is_empty()),
        user: text(e.user),
        success: e.success,
        remote_addr: text(e.remote_addr),
        cluster: text(e.cluster_name),
        raw,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_single_events_and_json_lines_with_bad_lines_in_between() {
        let ok = r#"{"uid":"a","time":"2026-11-26T10:00:00Z","event":"user.login","user":"alice","success":false,"addr.remote":"10.0.0.1:5000"}"#;
        let b = parse_batch(ok).unwrap();
        assert_eq!((b.events.len(), b.rejected.len()), (1, 0));
        assert_eq!(b.events[0].remote_addr.as_deref(), Some("10.0.0.1:5000"));
        let lines = format!("{ok}\nnot json\n{{\"uid\":\"b\",\"event\":\"x\"}}\n{}", ok.replace("\"a\"", "\"c\""));
        let b = parse_batch(&lines).unwrap();
        assert_eq!(b.events.len(), 2);
        assert_eq!(b.rejected.iter().map(|r| r.index).collect::<Vec<_>>(), [1, 2]);
        assert!(b.rejected[1].reason.contains("time"), "{:?}", b.rejected);
        let ahead = (chrono::Utc::now() + chrono::Duration::minutes(10)).to_rfc3339();
        let soon = (chrono::Utc::now() + chrono::Duration::minutes(1)).to_rfc3339();
        let body = format!(
            r#"[{{"uid":"f","time":"{ahead}","event":"user.login"}},{{"uid":"g","time":"{soon}","event":"user.login"}}]"#
        );
        let b = parse_batch(&body).unwrap();
        assert_eq!(b.events.len(), 1, "a minute ahead is clock skew");
        assert!(
            b.rejected[0].reason.contains("event f: `time`") && b.rejected[0].reason.contains("future"),
            "{:?}",
            b.rejected
        );
        let arr = format!("[{ok}, 42]");
        let b = parse_batch(&arr).unwrap();
        assert_eq!((b.events.len(), b.rejected.len()), (1, 1));
        assert!(parse_batch("  ").is_err());
    }

    #[test]
    fn fluentd_out_file_lines_are_detected_per_line_and_bad_lines_are_named() {
        let a = r#"{"uid":"a","time":"2026-11-26T10:00:00Z","event":"user.login","user":"alice"}"#;
        let b = r#"{"uid":"b","time":"2026-11-26T10:00:01Z","event":"user.login","user":"bob"}"#;
        let text = format!("2026-11-26T10:00:00+00:00\tteleport.events\t{a}\n\n{b}\nhello world\nx\ty\tnot json\n");
        let batch = parse_batch(&text).unwrap();
        let uids: Vec<&str> = batch.events.iter().map(|e| e.uid.as_str()).collect();
        assert_eq!(uids, ["a", "b"]);
        let lines: Vec<Option<usize>> = batch.rejected.iter().map(|r| r.line).collect();
        assert_eq!(lines, [Some(4), Some(5)], "{:?}", batch.rejected);
        assert!(batch.rejected[0].reason.contains("out_file"), "{:?}", batch.rejected);
    }

    #[test]
    fn secrets_in_events_are_redacted_before_storage() {
        let ev = r#"{"uid":"s","time":"2026-11-26T10:00:00Z","event":"exec","command":"curl -H 'Authorization: Bearer abcdefghijklmnop1234'","token":"t0k3n-secret"}"#;
        let b = parse_batch(ev).unwrap();
        let raw = b.events[0].raw.to_string();
        assert!(!raw.contains("abcdefghijklmnop1234") && !raw.contains("t0k3n-secret"), "{raw}");
    }
}
