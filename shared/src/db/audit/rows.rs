//! The rows `db::audit`'s read queries return: stored events, hourly counts, failed-login bursts and
//! the search aggregates. The audit detectors turn them into findings and summaries.

use chrono::{DateTime, Utc};
use serde_json::Value;

/// One stored event as the detectors see it: the indexed columns plus the (redacted) raw JSON,
/// which is `null` where a query did not need it.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEventRow {
    pub uid: String,
    pub time: DateTime<Utc>,
    pub event: String,
    pub code: Option<String>,
    pub user: Option<String>,
    pub remote_addr: Option<String>,
    pub raw: Value,
}

/// Number of events of one type in one UTC hour (hours without events are absent).
#[derive(Debug, Clone, PartialEq)]
pub struct EventHourCount {
    pub event: String,
    pub hour: DateTime<Utc>,
    pub count: u64,
}

/// Whose failed logins a burst counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LoginSubject {
    /// The user name the login claimed.
    User,
    /// The source IP (port stripped).
    Source,
}

/// The densest `brute_force_window` of one subject's failed logins that reaches the threshold:
/// how many, from when to when, and the first uids. The database computes these over every failed
/// login of the analysed window (`db::audit::anomaly_input`); the detectors' `login_bursts` is the
/// same rule over rows.
#[derive(Debug, Clone, PartialEq)]
pub struct LoginBurst {
    pub by: LoginSubject,
    pub subject: String,
    pub count: u64,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
    /// Uids of the burst in time order, at most the `evidence` the query was given.
    pub evidence: Vec<String>,
}

/// Everything the detectors look at, fetched in bounded queries.
#[derive(Debug, Clone, Default)]
pub struct AnomalyInput {
    /// Per event type and hour, for storms.
    pub hourly: Vec<EventHourCount>,
    /// The densest burst of failed logins of each user or source that reaches the threshold.
    pub login_bursts: Vec<LoginBurst>,
    /// `role.created` / `role.updated` / `role.deleted`.
    pub role_changes: Vec<AuditEventRow>,
    /// `user.create` / `user.update` in the window, oldest first.
    pub user_changes: Vec<AuditEventRow>,
    /// The last `user.create` / `user.update` before the window of each user changed in it.
    pub prior_user_changes: Vec<AuditEventRow>,
    /// `cert.create` with an impersonator, auth preference updates, `join_token.create`.
    pub escalation: Vec<AuditEventRow>,
    /// Approving `access_request.update` / `access_request.review` events.
    pub approvals: Vec<AuditEventRow>,
    /// `access_request.create` events of the approved requests (for the requester).
    pub request_creates: Vec<AuditEventRow>,
    /// `mcp.session.start`: before the window (back to `mcp_address_baseline`), the last one per
    /// user and source IP of the users active in the window; then the window's own, oldest first
    /// (raw: `app_name`).
    pub mcp_sessions: Vec<AuditEventRow>,
    /// Refused `tools/call` requests (`mcp.session.request`, `TMCP003E`) in the window (raw:
    /// `app_name`, `tool`, `error`).
    pub mcp_denied: Vec<AuditEventRow>,
    /// Caveats of the fetch (a capped query), passed into the report.
    pub notes: Vec<String>,
}

/// `search_audit`'s aggregates of a window, as `(key, count)` pairs, most frequent first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditAggregates {
    pub total: u64,
    pub first_event: Option<DateTime<Utc>>,
    pub last_event: Option<DateTime<Utc>>,
    pub by_event: Vec<(String, u64)>,
    pub failures_by_event: Vec<(String, u64)>,
    pub failures_by_user: Vec<(String, u64)>,
    pub top_users: Vec<(String, u64)>,
    /// Source IPs (port stripped).
    pub top_sources: Vec<(String, u64)>,
    /// Every hour from the requested first hour to the window's end, zeros included.
    pub hourly: Vec<(DateTime<Utc>, u64)>,
}
