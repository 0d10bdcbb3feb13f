//! MCP access (Teleport 18): bursts of refused MCP tool calls per user, one user reaching many MCP
//! servers, and MCP sessions from an address new for that user. Events as `lib/srv/mcp/audit.go`
//! emits them: `mcp.session.start` (`TMCP001I`, with `addr.remote` and `app_name`) and
//! `mcp.session.request` (`TMCP003E` when refused, `success: false`, `error`, the JSON-RPC
//! `message` whose `method` is `tools/call` and `params.name` the tool). Request events carry no
//! `addr.remote`: addresses come from session starts.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use super::brute_force::bursts;
use super::fields::str_field;
use super::report::{details, evidence};
use super::{AnomalyFinding, AnomalyKind, AuditEventRow, source_ip};
use crate::analysis::Severity;
use crate::config::AnomalyThresholds;

/// Most names listed in one finding's details.
const MAX_NAMES: usize = 20;

fn user_of(r: &AuditEventRow) -> Option<String> {
    r.user.clone().filter(|u| !u.is_empty())
}

fn names<'a>(rows: impl IntoIterator<Item = &'a AuditEventRow>, key: &str) -> Vec<String> {
    let set: BTreeSet<&str> = rows.into_iter().filter_map(|r| str_field(&r.raw, key)).collect();
    set.into_iter().take(MAX_NAMES).map(str::to_owned).collect()
}

/// Refused `tools/call` requests (the caller passes them) per user: the densest `mcp_denied_window`
/// holding at least `mcp_denied_calls`; medium, high at three times the threshold.
pub fn detect_mcp_denied_bursts(denied: &[AuditEventRow], t: &AnomalyThresholds) -> Vec<AnomalyFinding> {
    bursts(denied, user_of, t.mcp_denied_window, t.mcp_denied_calls)
        .into_iter()
        .map(|(user, rows)| {
            let observed = rows.len() as f64;
            let threshold = f64::from(t.mcp_denied_calls.max(1));
            let (first, last) = (rows[0].time, rows[rows.len() - 1].time);
            AnomalyFinding {
                kind: AnomalyKind::Mcp,
                signal: "mcp_denied_tool_calls".into(),
                severity: if observed >= 3.0 * threshold { Severity::High } else { Severity::Medium },
                description: format!(
                    "{} MCP tool calls of the user in `subject` were refused within {}s (threshold {} per {}s); \
                     tools in `details.tools`, servers in `details.servers`.",
                    rows.len(),
                    (last - first).num_seconds(),
                    t.mcp_denied_calls,
                    t.mcp_denied_window.as_secs(),
                ),
                details: details([
                    ("tools", names(rows.iter().copied(), "tool")),
                    ("servers", names(rows.iter().copied(), "app_name")),
                ]),
                subject: user,
                window_start: first,
                window_end: last,
                observed,
                threshold,
                evidence: evidence(rows.iter().map(|r| r.uid.as_str())),
            }
        })
        .collect()
}

/// Per user, the distinct MCP servers (`app_name`) of the window's session starts and refused
/// calls; at least `mcp_distinct_servers` is medium, high at three times. Evidence: the first event
/// per server.
pub fn detect_mcp_many_servers(
    since: DateTime<Utc>,
    sessions: &[AuditEventRow],
    denied: &[AuditEventRow],
    t: &AnomalyThresholds,
) -> Vec<AnomalyFinding> {
    let mut per_user: BTreeMap<String, BTreeMap<&str, &AuditEventRow>> = BTreeMap::new();
    let mut rows: Vec<&AuditEventRow> = sessions.iter().chain(denied).filter(|r| r.time >= since).collect();
    rows.sort_by(|a, b| (a.time, &a.uid).cmp(&(b.time, &b.uid)));
    for r in rows {
        if let (Some(user), Some(app)) = (user_of(r), str_field(&r.raw, "app_name")) {
            per_user.entry(user).or_default().entry(app).or_insert(r);
        }
    }
    let min = t.mcp_distinct_servers.max(1);
    per_user
        .into_iter()
        .filter(|(_, servers)| servers.len() >= min as usize)
        .map(|(user, servers)| {
            let firsts: Vec<&AuditEventRow> = servers.values().copied().collect();
            let start = firsts.iter().map(|r| r.time).min().unwrap_or(since);
            let end = firsts.iter().map(|r| r.time).max().unwrap_or(since);
            let (observed, threshold) = (servers.len() as f64, f64::from(min));
            AnomalyFinding {
                kind: AnomalyKind::Mcp,
                signal: "mcp_many_servers".into(),
                severity: if observed >= 3.0 * threshold { Severity::High } else { Severity::Medium },
                description: format!(
                    "The user in `subject` reached {} distinct MCP servers in the window (threshold {}); \
                     servers in `details.servers`.",
                    servers.len(),
                    min
                ),
                details: details([("servers", servers.keys().take(MAX_NAMES).map(|s| (*s).to_owned()).collect())]),
                subject: user,
                window_start: start,
                window_end: end,
                observed,
                threshold,
                evidence: evidence(firsts.iter().map(|r| r.uid.as_str())),
            }
        })
        .collect()
}

/// MCP session starts in the window from a source IP the user has not started an MCP session from
/// before (in the `mcp_address_baseline` before the window, or earlier in the window). Users with
/// no earlier session at all are not judged: every address would be new. One finding per (user,
/// address), medium.
pub fn detect_mcp_new_sources(since: DateTime<Utc>, sessions: &[AuditEventRow]) -> Vec<AnomalyFinding> {
    let mut rows: Vec<&AuditEventRow> = sessions.iter().collect();
    rows.sort_by(|a, b| (a.time, &a.uid).cmp(&(b.time, &b.uid)));
    let mut known: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut out = Vec::new();
    for r in rows {
        let (Some(user), Some(ip)) = (user_of(r), r.remote_addr.as_deref().map(source_ip).filter(|a| !a.is_empty()))
        else {
            continue;
        };
        let seen = known.entry(user.clone()).or_default();
        if r.time >= since && !seen.is_empty() && !seen.contains(&ip) {
            out.push(AnomalyFinding {
                kind: AnomalyKind::Mcp,
                signal: "mcp_new_source".into(),
                severity: Severity::Medium,
                description: "The user in `subject` started an MCP session from an address not seen for them \
                              before (`details.address`; earlier ones in `details.known_addresses`, the server in \
                              `details.servers`)."
                    .into(),
                details: details([
                    ("address", vec![ip.clone()]),
                    ("known_addresses", seen.iter().take(MAX_NAMES).cloned().collect()),
                    ("servers", names([r], "app_name")),
                ]),
                subject: user,
                window_start: r.time,
                window_end: r.time,
                observed: 1.0,
                threshold: 0.0,
                evidence: vec![r.uid.clone()],
            });
        }
        seen.insert(ip);
    }
    out
}
