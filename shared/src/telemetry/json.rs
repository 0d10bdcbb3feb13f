//! The JSON log line: one object per event with `timestamp`, `level`, `target`, `message`, the
//! fields of every enclosing span flattened to the top level (so `op_id`, `actor`, `capability`,
//! `lease_id` sit beside the message, not nested under `span`), then the event's own fields.
//!
//! tracing-subscriber's JSON format nests span fields (`span`, `spans`), and the crates that
//! flatten them (json-subscriber's `with_top_level_flattened_span_list`) may write a key twice
//! when an event repeats a span field, which strict JSON readers reject. This formatter merges
//! them into one map instead: an inner span overrides an outer one, the event overrides both, and
//! the fixed keys (`timestamp`, `level`, `message`, `target`, `span`) come first and always win.
//! Span fields are kept by tracing-subscriber's own [`JsonFields`].
//!
//! [`JsonFields`]: tracing_subscriber::fmt::format::JsonFields

use std::fmt;

use chrono::{SecondsFormat, Utc};
use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// Formats each event as one flat JSON object (see the module documentation).
#[derive(Debug, Clone, Copy, Default)]
pub struct FlatJson;

impl<S, N> FormatEvent<S, N> for FlatJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let meta = event.metadata();
        let mut line = Map::new();
        let mut innermost = None;
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                if let Some(fields) = span.extensions().get::<FormattedFields<N>>()
                    && let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(&fields.fields)
                {
                    line.extend(fields);
                }
                innermost = Some(span.name());
            }
        }
        event.record(&mut Fields(&mut line));
        let message = line.remove("message");
        // The fixed keys first (and always theirs), then the fields in name order.
        let timestamp = Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true);
        let mut out = String::with_capacity(256);
        out.push('{');
        let mut put = |key: &str, value: &Value| -> fmt::Result {
            if out.len() > 1 {
                out.push(',');
            }
            out.push_str(&serde_json::to_string(key).map_err(|_| fmt::Error)?);
            out.push(':');
            out.push_str(&serde_json::to_string(value).map_err(|_| fmt::Error)?);
            Ok(())
        };
        put("timestamp", &timestamp.into())?;
        put("level", &meta.level().as_str().into())?;
        put("message", &message.unwrap_or_else(|| "".into()))?;
        put("target", &meta.target().into())?;
        if let Some(name) = innermost {
            put("span", &name.into())?;
        }
        for (key, value) in &line {
            if !matches!(key.as_str(), "timestamp" | "level" | "target" | "span") {
                put(key, value)?;
            }
        }
        out.push('}');
        writeln!(writer, "{out}")
    }
}

/// Writes an event's fields into the line as JSON values.
struct Fields<'a>(&'a mut Map<String, Value>);

impl Fields<'_> {
    fn put(&mut self, field: &Field, value: Value) {
        let name = field.name();
        self.0.insert(name.strip_prefix("r#").unwrap_or(name).to_owned(), value);
    }
}

impl Visit for Fields<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, serde_json::Number::from_f64(value).map_or_else(|| value.to_string().into(), Value::Number));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, value.into());
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, value.into());
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, value.to_string().into());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, format!("{value:?}").into());
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use serde_json::Value;
    use tracing_subscriber::layer::SubscriberExt;

    use super::FlatJson;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn span_fields_are_flattened_and_each_key_is_written_once() {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .event_format(FlatJson)
                .fmt_fields(tracing_subscriber::fmt::format::JsonFields::new())
                .with_writer(move || writer.clone()),
        );
        tracing::subscriber::with_default(subscriber, || {
            let call =
                tracing::info_span!("tool_call", op_id = "op-1", actor = "alice", capability = "inventory.nodes");
            let _call = call.enter();
            let lease = tracing::info_span!("lease", lease_id = "l-1", actor = "inner");
            let _lease = lease.enter();
            tracing::warn!(actor = "event", attempts = 3_u64, ok = false, "it \"happened\"");
        });
        let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.starts_with(r#"{"timestamp":""#), "the fixed keys come first: {text}");
        assert_eq!(text.matches(r#""actor":"#).count(), 1, "one key per name: {text}");
        let line: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(line["level"], "WARN");
        assert_eq!(line["message"], "it \"happened\"");
        assert_eq!(line["span"], "lease");
        assert_eq!(line["op_id"], "op-1");
        assert_eq!(line["capability"], "inventory.nodes");
        assert_eq!(line["lease_id"], "l-1");
        assert_eq!(line["actor"], "event", "the event overrides its spans");
        assert_eq!(line["attempts"], 3);
        assert_eq!(line["ok"], false);
        assert!(line["timestamp"].as_str().unwrap().ends_with('Z'));
    }
}
