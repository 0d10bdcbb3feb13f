//! Audit analysis over ingested Teleport audit events: the shapes of `search_audit`
//! ([`AuditSummary`]) and `detect_audit_anomalies` ([`AnomalyReport`]), and the pure detectors that
//! turn bounded candidate rows (fetched by `db::audit`) into findings. No IO here.

mod approvals;
mod auth_preference;
mod brute_force;
mod escalation;
mod fields;
mod report;
mod roles;
mod storm;
mod summary;

use chrono::{DateTime, Utc};
use serde_json::Value;

pub use approvals::{BusinessHours, BusinessHoursError, detect_approvals};
pub use auth_preference::{
    AUTH_PREFERENCE_CHANGED, CurrentAuthPreference, WEAKENED_SECOND_FACTOR, effective_second_factors,
    judge_auth_preference_changes, needs_auth_preference, second_factor_weakness,
};
pub use brute_force::{
    LoginBurst, LoginSubject, brute_force_findings, densest_window, detect_brute_force, login_bursts,
};
pub use escalation::{PRIVILEGED_JOIN_ROLES, detect_escalations};
pub use fields::source_ip;
pub use report::{AnomalyFinding, AnomalyKind, AnomalyReport, AuditWindow, MAX_EVIDENCE, ThresholdsUsed};
pub use roles::{detect_role_grants, detect_role_spikes, is_privileged_role};
pub use storm::{detect_storms, median};
pub use summary::{AuditSummary, EventCount, HourCount, SourceCount, UserCount};

use crate::config::AnomalyThresholds;

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
    /// Caveats of the fetch (a capped query), passed into the report.
    pub notes: Vec<String>,
}

/// Run every detector and sort the findings (severity, then start). Storm findings come back without
/// evidence: the caller adds a sample of the storm hour's uids.
pub fn detect_anomalies(window: AuditWindow, input: &AnomalyInput, t: &AnomalyThresholds) -> AnomalyReport {
    let mut notes = input.notes.clone();
    let hours = match t.business_hours_utc.as_deref().map(BusinessHours::parse) {
        None => None,
        Some(Ok(h)) => Some(h),
        Some(Err(e)) => {
            notes.push(format!("business-hours check skipped: {e}"));
            None
        }
    };
    let mut findings = detect_storms(&window, &input.hourly, t);
    findings.extend(brute_force_findings(&input.login_bursts, t));
    findings.extend(detect_role_spikes(&input.role_changes, t));
    findings.extend(detect_role_grants(&input.prior_user_changes, &input.user_changes));
    findings.extend(detect_escalations(&input.escalation));
    findings.extend(detect_approvals(&input.approvals, &input.request_creates, hours));
    report::sort_findings(&mut findings);
    AnomalyReport { window, thresholds: ThresholdsUsed::from(t), findings, notes }
}
