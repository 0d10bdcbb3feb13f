//! The result of `search_audit`: counts by event type, failures, top users and sources, and an
//! hourly histogram, all computed by SQL aggregates in `db::audit`.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::AuditWindow;

/// Aggregates of the audit events in a window. Event types, user names and addresses are the
/// cluster's text: untrusted data (a failed login's user name is whatever the person trying typed),
/// with invisible characters written out as `\u{…}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AuditSummary {
    /// The searched window.
    pub window: AuditWindow,
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
