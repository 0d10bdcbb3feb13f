//! Audit events as Teleport's event-handler plugin and file backend deliver them: flat JSON
//! objects whose field set varies by event type and version; the raw object is kept.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::de::parse_time;

/// The common fields of one audit event plus the raw object.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    /// Unique id (dedupe key); empty when absent (trimmed examples).
    pub uid: String,
    /// Event time.
    pub time: Option<DateTime<Utc>>,
    /// Event type, e.g. `user.login`.
    pub event: String,
    /// Event code, e.g. `T1000W`.
    pub code: String,
    /// Acting user: `user`, else the field Teleport puts the actor in for events without
    /// `UserMetadata` — `reviewer` (`access_request.review`), `updated_by` (`access_request.update`),
    /// `identity.user` (`cert.create`); see [`actor`].
    pub user: Option<String>,
    /// Outcome, when the event records one.
    pub success: Option<bool>,
    /// Client address (`addr.remote`, or `remote_addr`).
    pub remote_addr: Option<String>,
    /// Cluster.
    pub cluster_name: Option<String>,
    /// The whole event, unredacted: redact before storing.
    pub raw: Value,
}

impl AuditEvent {
    /// Reads the common fields out of one event object.
    pub fn from_value(raw: Value) -> Result<AuditEvent, String> {
        let Value::Object(map) = &raw else {
            return Err(format!("expected an event object, found {}", kind_of(&raw)));
        };
        let text = |key: &str| match map.get(key) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let time = match map.get("time") {
            Some(Value::String(s)) => parse_time(s)?,
            _ => None,
        };
        Ok(AuditEvent {
            uid: text("uid").unwrap_or_default(),
            time,
            event: text("event").unwrap_or_default(),
            code: text("code").unwrap_or_default(),
            user: actor(&raw),
            success: map.get("success").and_then(Value::as_bool),
            remote_addr: text("addr.remote").or_else(|| text("remote_addr")),
            cluster_name: text("cluster_name"),
            raw,
        })
    }
}

/// Who acted in an event. Teleport's events put the actor in different places
/// (`api/proto/teleport/legacy/types/events/events.proto`): most embed `UserMetadata` (`user`);
/// `AccessRequestCreate` as emitted by `SubmitAccessReview` (`access_request.review`) carries only
/// `reviewer`, and by `SetAccessRequestState` (`access_request.update`) only `updated_by`
/// (`lib/auth/auth.go`); `CertificateCreate` (`cert.create`) only `identity.user`.
pub fn actor(raw: &Value) -> Option<String> {
    let text = |v: Option<&Value>| match v {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        _ => None,
    };
    text(raw.get("user"))
        .or_else(|| text(raw.get("reviewer")))
        .or_else(|| text(raw.get("updated_by")))
        .or_else(|| text(raw.get("identity").and_then(|i| i.get("user"))))
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
