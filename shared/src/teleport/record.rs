//! What is kept of a run for storage: redacted and capped output, with the extra scrubbing some
//! commands need (join token secrets, CA key material).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::parse::parse_tokens;
use super::runner::RunOutput;
use super::views::mask_token_name;
use crate::redact::{REDACTED, redact_json, redact_text};

/// Bytes of each stream kept in a record (the runner's own cap protects memory; this one keeps
/// the operations table small).
pub const RECORD_STREAM_LIMIT_BYTES: usize = 256 * 1024;

/// A run as stored with an operation: redacted, capped, ready to store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Redacted command line, binary name first.
    pub argv: Vec<String>,
    /// Exit code; `None` when killed by a signal.
    pub exit_code: Option<i32>,
    /// Redacted standard output.
    pub stdout: String,
    /// Redacted standard error.
    pub stderr: String,
    /// Output was cut, by the runner's cap or the record's.
    pub truncated: bool,
    /// Wall-clock duration.
    #[serde(rename = "duration_ms", with = "millis")]
    pub duration: Duration,
}

/// Extra scrubbing of stdout before the generic redaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scrub {
    /// Generic redaction only.
    Plain,
    /// `tctl tokens ls`: secret token names replaced by their masked form.
    Tokens,
    /// `tctl get cert_authorities`: every key entry replaced by `[REDACTED]` (counts kept).
    CertAuthorities,
}

impl RunRecord {
    pub(crate) fn scrubbed(output: &RunOutput, scrub: Scrub) -> RunRecord {
        let (stdout, names) = match scrub {
            Scrub::Plain => (output.stdout.clone(), Vec::new()),
            Scrub::Tokens => scrub_tokens(&output.stdout),
            Scrub::CertAuthorities => (scrub_cert_authorities(&output.stdout), Vec::new()),
        };
        let stderr = mask_names(&output.stderr, &names);
        let (stdout, cut_out) = cap(redact_text(&stdout));
        let (stderr, cut_err) = cap(redact_text(&stderr));
        RunRecord {
            argv: output.argv.clone(),
            exit_code: output.exit_code,
            stdout,
            stderr,
            truncated: output.stdout_truncated || output.stderr_truncated || cut_out || cut_err,
            duration: output.duration,
        }
    }
}

fn cap(mut s: String) -> (String, bool) {
    if s.len() <= RECORD_STREAM_LIMIT_BYTES {
        return (s, false);
    }
    let mut cut = RECORD_STREAM_LIMIT_BYTES;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s.truncate(cut);
    (s, true)
}

fn withheld(stdout: &str, what: &str) -> String {
    if stdout.trim().is_empty() {
        return String::new();
    }
    format!("[withheld: {} bytes of output that could not be parsed and may contain {what}]", stdout.len())
}

/// Elements of a JSON list (or the single object) printed by `tctl`.
fn elements(v: &mut Value) -> Vec<&mut Value> {
    match v {
        Value::Array(items) => items.iter_mut().collect(),
        Value::Object(_) => vec![v],
        _ => Vec::new(),
    }
}

fn pretty(mut v: Value) -> String {
    redact_json(&mut v);
    serde_json::to_string_pretty(&v).unwrap_or_default()
}

/// Returns the scrubbed stdout and the secret names found (to scrub stderr too).
fn scrub_tokens(stdout: &str) -> (String, Vec<String>) {
    if let Ok(mut v) = serde_json::from_str::<Value>(stdout) {
        let mut names = Vec::new();
        for token in elements(&mut v) {
            let method = token.pointer("/spec/join_method").and_then(Value::as_str).unwrap_or("");
            if !matches!(method, "" | "token") {
                continue;
            }
            if let Some(name) = token.pointer_mut("/metadata/name")
                && let Some(secret) = name.as_str()
            {
                names.push(secret.to_owned());
                *name = Value::String(mask_token_name(secret));
            }
        }
        return (pretty(v), names);
    }
    // Not JSON (e.g. YAML): mask each secret name wherever it appears.
    match parse_tokens(stdout) {
        Ok(tokens) => {
            let names: Vec<String> =
                tokens.iter().filter(|t| t.name_is_secret()).map(|t| t.metadata.name.clone()).collect();
            (mask_names(stdout, &names), names)
        }
        Err(_) => (withheld(stdout, "join token secrets"), Vec::new()),
    }
}

fn mask_names(text: &str, names: &[String]) -> String {
    let mut names: Vec<&String> = names.iter().filter(|n| !n.is_empty()).collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    names.iter().fold(text.to_owned(), |acc, name| acc.replace(name.as_str(), &mask_token_name(name)))
}

fn scrub_cert_authorities(stdout: &str) -> String {
    let Ok(mut v) = serde_json::from_str::<Value>(stdout) else {
        return withheld(stdout, "key material");
    };
    for ca in elements(&mut v) {
        for set in ["active_keys", "additional_trusted_keys"] {
            let Some(Value::Object(protocols)) = ca.pointer_mut(&format!("/spec/{set}")) else {
                continue;
            };
            for entries in protocols.values_mut() {
                match entries {
                    Value::Array(items) => items.iter_mut().for_each(|e| *e = Value::String(REDACTED.to_owned())),
                    Value::Null => {}
                    other => *other = Value::String(REDACTED.to_owned()),
                }
            }
        }
    }
    pretty(v)
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}
