//! What is kept of a call's arguments in its operation row: redacted, each string capped, and the
//! whole bounded, refused calls included.

use mtcp_shared::domain::{ToolName, ToolSpec};
use rmcp::model::JsonObject;
use serde_json::Value;

/// The arguments as they are recorded: redacted, with `run_*_command` argv redacted as a command
/// line (a token name in `get token/<name>` is a secret), and every string capped.
pub fn recorded_inputs(spec: &ToolSpec, args: &JsonObject) -> Value {
    const MAX_STORED: usize = 4096;
    fn cap(v: &mut Value) {
        match v {
            Value::String(s) if s.len() > MAX_STORED => {
                let mut cut = MAX_STORED;
                while !s.is_char_boundary(cut) {
                    cut -= 1;
                }
                *s = format!("{}… [{} more bytes not stored]", &s[..cut], s.len() - cut);
            }
            Value::Array(items) => items.iter_mut().for_each(cap),
            Value::Object(map) => map.values_mut().for_each(cap),
            _ => {}
        }
    }
    let mut inputs = Value::Object(args.clone());
    if matches!(spec.tool, ToolName::RunTshCommand | ToolName::RunTctlCommand)
        && let Some(Value::Array(items)) = inputs.get("args")
        && items.iter().all(Value::is_string)
    {
        let argv: Vec<String> = items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect();
        inputs["args"] = Value::from(mtcp_shared::redact::redact_argv(&argv));
    }
    mtcp_shared::redact::redact_json(&mut inputs);
    cap(&mut inputs);
    bound_total(inputs)
}

/// Bytes of recorded inputs kept per call. Each string is already capped, but a call may carry
/// many of them, and refused calls are recorded too: without a total bound one actor's refused
/// calls could write a megabyte each.
const MAX_STORED_TOTAL: usize = 16 * 1024;

/// The inputs when they fit in [`MAX_STORED_TOTAL`]; else a note of their size and the first keys.
fn bound_total(inputs: Value) -> Value {
    let size = serde_json::to_string(&inputs).map_or(usize::MAX, |s| s.len());
    if size <= MAX_STORED_TOTAL {
        return inputs;
    }
    let keys: Vec<Value> = match &inputs {
        Value::Object(map) => {
            map.keys().take(32).map(|k| Value::from(k.chars().take(64).collect::<String>())).collect()
        }
        _ => Vec::new(),
    };
    serde_json::json!({
        "_not_stored": format!("{size} bytes of arguments, over the {MAX_STORED_TOTAL} bytes kept per call"),
        "_keys": keys,
    })
}
