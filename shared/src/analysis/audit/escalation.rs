//! Escalation signals in single events: impersonated certificates, a weakened second factor, and
//! join tokens for control-plane roles or with a long lifetime.

use std::collections::BTreeMap;

use super::auth_preference::AUTH_PREFERENCE_CHANGED;
use super::fields::{str_field, str_list, str_path};
use super::report::{details, evidence};
use super::{AnomalyFinding, AnomalyKind, AuditEventRow};
use crate::analysis::Severity;
use chrono::{DateTime, Utc};

/// System roles whose join token lets a host join as part of the control plane.
pub const PRIVILEGED_JOIN_ROLES: &[&str] = &["Auth", "Admin", "Proxy"];

/// Join tokens valid longer than this (from the event's time to `expires`) are flagged.
const LONG_TOKEN_TTL_HOURS: i64 = 24;

/// Events of the auth preference (the real name is `auth_preference.update`, code `TCAUTH001I`).
pub(crate) const AUTH_PREFERENCE_EVENTS: &[&str] = &["auth_preference.update", "cluster_auth_preference.update"];

fn actor(row: &AuditEventRow) -> String {
    row.user.clone().filter(|u| !u.is_empty()).unwrap_or_else(|| "unknown".into())
}

fn finding(
    row: &AuditEventRow,
    signal: &str,
    severity: Severity,
    subject: String,
    details: BTreeMap<String, Vec<String>>,
    description: String,
) -> AnomalyFinding {
    AnomalyFinding {
        kind: AnomalyKind::Escalation,
        signal: signal.into(),
        severity,
        subject,
        window_start: row.time,
        window_end: row.time,
        observed: 1.0,
        threshold: 1.0,
        evidence: vec![row.uid.clone()],
        details,
        description,
    }
}

/// Impersonation (`cert.create` with `impersonator` or `identity.impersonator`), grouped by
/// impersonator: high, medium for Machine ID bots (`bot-…`, which impersonate by design).
/// Auth preference changes (`auth_preference.update`): a pending medium `auth_preference_changed`
/// each, judged later against the current settings (the event carries none).
/// Join tokens (`join_token.create`): roles Auth/Admin critical, Proxy high, `expires` more than
/// 24 h after the event medium.
pub fn detect_escalations(rows: &[AuditEventRow]) -> Vec<AnomalyFinding> {
    let mut findings = Vec::new();
    let mut impersonations: BTreeMap<String, Vec<&AuditEventRow>> = BTreeMap::new();
    for row in rows {
        if row.event == "cert.create" {
            let who = str_field(&row.raw, "impersonator").or_else(|| str_path(&row.raw, &["identity", "impersonator"]));
            if let Some(who) = who {
                impersonations.entry(who.to_owned()).or_default().push(row);
            }
        } else if AUTH_PREFERENCE_EVENTS.contains(&row.event.as_str()) || row.code.as_deref() == Some("TCAUTH001I") {
            findings.push(auth_preference(row));
        } else if row.event == "join_token.create" {
            findings.extend(join_token(row));
        }
    }
    for (who, mut rows) in impersonations {
        rows.sort_by_key(|r| r.time);
        let targets: std::collections::BTreeSet<&str> =
            rows.iter().filter_map(|r| str_path(&r.raw, &["identity", "user"]).or(r.user.as_deref())).collect();
        let severity = if who.starts_with("bot-") { Severity::Medium } else { Severity::High };
        let (first, last) = (rows[0].time, rows[rows.len() - 1].time);
        findings.push(AnomalyFinding {
            kind: AnomalyKind::Escalation,
            signal: "impersonation".into(),
            severity,
            description: format!(
                "The user in `subject` obtained {} certificate(s) impersonating the users in `details.targets`.",
                rows.len(),
            ),
            details: details([("targets", targets.into_iter().take(20).map(str::to_owned).collect())]),
            subject: who,
            window_start: first,
            window_end: last,
            observed: rows.len() as f64,
            threshold: 1.0,
            evidence: evidence(rows.iter().map(|r| r.uid.as_str())),
        });
    }
    findings
}

/// A pending finding: the event names who changed the auth preference but not the settings;
/// [`super::judge_auth_preference_changes`] judges it against the current resource.
fn auth_preference(row: &AuditEventRow) -> AnomalyFinding {
    let who = actor(row);
    finding(
        row,
        AUTH_PREFERENCE_CHANGED,
        Severity::Medium,
        who,
        BTreeMap::new(),
        "The user in `subject` changed the cluster auth preference; Teleport's event does not carry the new \
         settings: check the second factor with get_auth_preference."
            .into(),
    )
}

fn join_token(row: &AuditEventRow) -> Option<AnomalyFinding> {
    let roles = str_list(&row.raw, "roles").unwrap_or_default();
    let broad: Vec<&str> = roles
        .iter()
        .filter_map(|r| PRIVILEGED_JOIN_ROLES.iter().find(|p| p.eq_ignore_ascii_case(r)).copied())
        .collect();
    let expires = str_field(&row.raw, "expires")
        .and_then(|e| DateTime::parse_from_rfc3339(e).ok())
        .map(|e| e.to_utc())
        .filter(|e| e.timestamp() > 0);
    let ttl_hours = expires.map(|e: DateTime<Utc>| (e - row.time).num_hours());
    let long = ttl_hours.filter(|h| *h > LONG_TOKEN_TTL_HOURS);
    let severity = if broad.iter().any(|r| *r == "Auth" || *r == "Admin") {
        Severity::Critical
    } else if !broad.is_empty() {
        Severity::High
    } else if long.is_some() {
        Severity::Medium
    } else {
        return None;
    };
    let who = actor(row);
    let method = str_field(&row.raw, "join_method").unwrap_or("token");
    let mut why = Vec::new();
    if !broad.is_empty() {
        why.push(format!("control-plane role(s) {}", broad.join(", ")));
    }
    if let Some(h) = long {
        why.push(format!("a lifetime of {h} h (over {LONG_TOKEN_TTL_HOURS} h)"));
    }
    let description = format!(
        "The user in `subject` created a join token (method and roles in `details`) with {}.",
        why.join(" and ")
    );
    let details = details([("join_method", vec![method.to_owned()]), ("roles", roles)]);
    // The subject is the creator, never the token's name: for the `token` method the name is the secret.
    Some(finding(row, "broad_join_token", severity, who, details, description))
}
