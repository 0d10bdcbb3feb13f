//! The result of `search_audit`: counts by event type, failures, top users and sources, and an
//! hourly histogram, all computed by SQL aggregates in `db::audit` and shaped here.

use chrono::{DateTime, Duration, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::AuditWindow;
use crate::db::audit::AuditAggregates;

/// Most hour buckets in the histogram (over a year).
const MAX_HOURS: i64 = 24 * 400;

/// Aggregates of the audit events in a window. Event types, user names and addresses are the
/// cluster's text: untrusted data (a failed login's user name is whatever the person trying typed),
/// with invisible characters written out as `\u{…}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AuditSummary {
    /// The searched window.
    pub window: AuditWindow,
    /// The configured cluster whose events were counted; absent: every cluster's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// Events in the window.
    pub total: u64,
    /// Time of the oldest event in the window.
    pub first_event: Option<DateTime<Utc>>,
    /// Time of the newest event in the window.
    pub last_event: Option<DateTime<Utc>>,
    /// Events per type, most frequent first.
    pub by_event: Vec<EventCount>,
    /// Failed events (`success: false`) per type, most frequent first.
    pub failures_by_event: Vec<EventCount>,
    /// Failed events per user, most frequent first.
    pub failures_by_user: Vec<UserCount>,
    /// The ten most active users.
    pub top_users: Vec<UserCount>,
    /// The ten most frequent source IPs (port stripped).
    pub top_sources: Vec<SourceCount>,
    /// Events per UTC hour, every hour of the window (zeros included), oldest first.
    pub hourly: Vec<HourCount>,
    /// Caveats, e.g. a histogram limited to the window's last hours.
    pub notes: Vec<String>,
}

/// Events of one type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EventCount {
    /// Event type, e.g. `user.login`.
    pub event: String,
    /// Number of events.
    pub count: u64,
}

/// Events of one user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct UserCount {
    /// Teleport user, as the event names it (untrusted data).
    pub user: String,
    /// Number of events.
    pub count: u64,
}

/// Events from one source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SourceCount {
    /// Source IP (`addr.remote` without its port).
    pub remote_addr: String,
    /// Number of events.
    pub count: u64,
}

/// Events in one hour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HourCount {
    /// Start of the hour (UTC).
    pub hour: DateTime<Utc>,
    /// Number of events.
    pub count: u64,
}

/// Where the histogram of `window` starts: a window longer than [`MAX_HOURS`] gets its last
/// [`MAX_HOURS`] hours only, said in the note. None for an empty window.
pub fn histogram_start(window: &AuditWindow) -> (Option<DateTime<Utc>>, Option<String>) {
    let skip = i64::from(window.hours) - MAX_HOURS;
    let first_hour = window.hour_starts().next().map(|h| h + Duration::hours(skip.max(0)));
    let note = (skip > 0).then(|| format!("the hourly histogram covers the last {MAX_HOURS} hours of the window only"));
    (first_hour, note)
}

/// The summary of `window` from its aggregates (`notes`: caveats of the fetch), of every cluster
/// until the caller names the one it filtered on.
pub fn summarize(window: AuditWindow, a: AuditAggregates, notes: Vec<String>) -> AuditSummary {
    let events = |v: Vec<(String, u64)>| v.into_iter().map(|(event, count)| EventCount { event, count }).collect();
    let users = |v: Vec<(String, u64)>| v.into_iter().map(|(user, count)| UserCount { user, count }).collect();
    AuditSummary {
        window,
        cluster: None,
        total: a.total,
        first_event: a.first_event,
        last_event: a.last_event,
        by_event: events(a.by_event),
        failures_by_event: events(a.failures_by_event),
        failures_by_user: users(a.failures_by_user),
        top_users: users(a.top_users),
        top_sources: a.top_sources.into_iter().map(|(remote_addr, count)| SourceCount { remote_addr, count }).collect(),
        hourly: a.hourly.into_iter().map(|(hour, count)| HourCount { hour, count }).collect(),
        notes,
    }
}
