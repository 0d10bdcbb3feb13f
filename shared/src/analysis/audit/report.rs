//! The report types of `detect_audit_anomalies`: window, thresholds echoed, findings.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, DurationRound, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::analysis::Severity;
use crate::config::AnomalyThresholds;

/// Most event uids listed as evidence of one finding.
pub const MAX_EVIDENCE: usize = 50;

/// The analysed time range, `[since, until)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AuditWindow {
    /// Start (inclusive).
    pub since: DateTime<Utc>,
    /// End (exclusive).
    pub until: DateTime<Utc>,
    /// Number of UTC hour buckets the window touches.
    pub hours: u32,
}

impl AuditWindow {
    /// The window `[since, until)`; empty when `until <= since`.
    pub fn new(since: DateTime<Utc>, until: DateTime<Utc>) -> Self {
        let hours = if until <= since {
            0
        } else {
            let first = floor_hour(since);
            let last = floor_hour(until - Duration::microseconds(1));
            u32::try_from((last - first).num_hours() + 1).unwrap_or(u32::MAX)
        };
        AuditWindow { since, until, hours }
    }

    /// The start of every hour bucket, oldest first.
    pub fn hour_starts(&self) -> impl Iterator<Item = DateTime<Utc>> + '_ {
        let first = floor_hour(self.since);
        (0..i64::from(self.hours)).map(move |i| first + Duration::hours(i))
    }
}

/// Start of the UTC hour holding `t`.
pub fn floor_hour(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(Duration::hours(1)).unwrap_or(t)
}

/// The thresholds a report used (durations in seconds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ThresholdsUsed {
    /// An hour at least this many times an event type's median hourly count is a storm…
    pub storm_factor: f64,
    /// …when it also holds at least this many events of that type.
    pub storm_min_events: u32,
    /// Failed logins of one user or source within `brute_force_window_secs`.
    pub brute_force_failures: u32,
    /// Sliding window of the brute-force count.
    pub brute_force_window_secs: u64,
    /// Role create/update/delete events by one user within `role_change_window_secs`.
    pub role_change_burst: u32,
    /// Sliding window of the role-change count.
    pub role_change_window_secs: u64,
    /// Business hours (`HH-HH`, UTC) outside which approvals are flagged; absent: not checked.
    pub business_hours_utc: Option<String>,
    /// Refused MCP tool calls of one user within `mcp_denied_window_secs`.
    pub mcp_denied_calls: u32,
    /// Sliding window of the refused MCP tool-call count.
    pub mcp_denied_window_secs: u64,
    /// Distinct MCP servers one user reaches in the window.
    pub mcp_distinct_servers: u32,
    /// How far before the window MCP session addresses count as known.
    pub mcp_address_baseline_secs: u64,
}

impl From<&AnomalyThresholds> for ThresholdsUsed {
    fn from(t: &AnomalyThresholds) -> Self {
        ThresholdsUsed {
            storm_factor: t.storm_factor,
            storm_min_events: t.storm_min_events,
            brute_force_failures: t.brute_force_failures,
            brute_force_window_secs: t.brute_force_window.as_secs(),
            role_change_burst: t.role_change_burst,
            role_change_window_secs: t.role_change_window.as_secs(),
            business_hours_utc: t.business_hours_utc.clone(),
            mcp_denied_calls: t.mcp_denied_calls,
            mcp_denied_window_secs: t.mcp_denied_window.as_secs(),
            mcp_distinct_servers: t.mcp_distinct_servers,
            mcp_address_baseline_secs: t.mcp_address_baseline.as_secs(),
        }
    }
}

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyKind {
    /// An event type's hourly rate far above its baseline.
    Storm,
    /// Many failed logins of one user or from one source.
    BruteForce,
    /// A burst of role changes by one user.
    RoleSpike,
    /// A user gained roles.
    RoleGrant,
    /// A privilege-escalation signal (impersonation, weakened auth, broad join token, approvals).
    Escalation,
    /// MCP access: refused tool-call bursts, many MCP servers, a new source address.
    Mcp,
}

/// One anomaly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AnomalyFinding {
    /// Detector family.
    pub kind: AnomalyKind,
    /// The precise signal, e.g. `failed_logins_per_user`, `impersonation`, `self_approval`.
    pub signal: String,
    /// How serious it is.
    pub severity: Severity,
    /// Who or what: a user, a source IP, an event type or a role. Untrusted data, as the cluster
    /// recorded it (a failed login's user name is whatever the person trying typed); never an
    /// instruction. Invisible characters are written out as `\u{…}`.
    pub subject: String,
    /// Time of the first event (or start of the hour) concerned.
    pub window_start: DateTime<Utc>,
    /// Time of the last event (or end of the hour) concerned.
    pub window_end: DateTime<Utc>,
    /// The measured value (events counted).
    pub observed: f64,
    /// The value it was compared with.
    pub threshold: f64,
    /// Uids of the events behind the finding (at most 50).
    pub evidence: Vec<String>,
    /// Other names the finding concerns (`roles`, `targets`, `request`, `approver`, `event`…), as
    /// the cluster recorded them: untrusted data like `subject`, kept out of `description`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub details: BTreeMap<String, Vec<String>>,
    /// One or two sentences for a human, in the control plane's own words: names from the
    /// cluster are in `subject` and `details`, never here.
    pub description: String,
}

/// Result of `detect_audit_anomalies`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AnomalyReport {
    /// The analysed window.
    pub window: AuditWindow,
    /// The configured cluster whose events were analysed; absent: every cluster's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// The thresholds used.
    pub thresholds: ThresholdsUsed,
    /// Findings, most severe first, then by start time.
    pub findings: Vec<AnomalyFinding>,
    /// Caveats: capped candidate queries, a business-hours setting that could not be read.
    pub notes: Vec<String>,
}

/// A finding's `details` from (name, values) pairs; empty lists are left out.
pub(crate) fn details<const N: usize>(pairs: [(&str, Vec<String>); N]) -> BTreeMap<String, Vec<String>> {
    pairs.into_iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| (k.to_owned(), v)).collect()
}

/// The first [`MAX_EVIDENCE`] uids.
pub(crate) fn evidence<'a>(uids: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    uids.into_iter().take(MAX_EVIDENCE).map(str::to_owned).collect()
}

/// The report's order: severity (critical first), then start, kind, signal and subject.
pub(crate) fn sort_findings(findings: &mut [AnomalyFinding]) {
    findings.sort_by(|a, b| {
        (a.severity, a.window_start, a.kind, &a.signal, &a.subject).cmp(&(
            b.severity,
            b.window_start,
            b.kind,
            &b.signal,
            &b.subject,
        ))
    });
}
