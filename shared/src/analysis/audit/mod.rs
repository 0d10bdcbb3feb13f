//! Audit analysis over ingested Teleport audit events: the shapes of `search_audit`
//! ([`AuditSummary`]) and `detect_audit_anomalies` ([`AnomalyReport`]), and the pure detectors that
//! turn bounded candidate rows (fetched by `db::audit`) into findings. Only [`query`] reads the
//! database; the detectors do no IO.

mod approvals;
mod auth_preference;
mod brute_force;
mod escalation;
mod fields;
mod mcp;
mod query;
mod report;
mod roles;
mod storm;
mod summary;

pub use approvals::{BusinessHours, BusinessHoursError, detect_approvals};
pub use auth_preference::{
    AUTH_PREFERENCE_CHANGED, CurrentAuthPreference, WEAKENED_SECOND_FACTOR, effective_second_factors,
    judge_auth_preference_changes, needs_auth_preference, second_factor_weakness,
};
pub use brute_force::{brute_force_findings, densest_window, detect_brute_force, login_bursts};
pub use escalation::{PRIVILEGED_JOIN_ROLES, detect_escalations};
pub use fields::source_ip;
pub use mcp::{detect_mcp_denied_bursts, detect_mcp_many_servers, detect_mcp_new_sources};
pub use query::{anomalies, search};
pub use report::{AnomalyFinding, AnomalyKind, AnomalyReport, AuditWindow, MAX_EVIDENCE, ThresholdsUsed};
pub use roles::{detect_role_grants, detect_role_spikes, is_privileged_role};
pub use storm::{detect_storms, median};
pub use summary::{AuditSummary, EventCount, HourCount, SourceCount, UserCount, summarize};

/// The rows the detectors read, as `db::audit` returns them.
pub use crate::db::audit::{AnomalyInput, AuditEventRow, EventHourCount, LoginBurst, LoginSubject};

use crate::config::AnomalyThresholds;

/// Run every detector and sort the findings (severity, then start). Storm findings come back without
/// evidence: the caller adds a sample of the storm hour's uids, and the cluster it filtered on.
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
    findings.extend(detect_mcp_denied_bursts(&input.mcp_denied, t));
    findings.extend(detect_mcp_many_servers(window.since, &input.mcp_sessions, &input.mcp_denied, t));
    findings.extend(detect_mcp_new_sources(window.since, &input.mcp_sessions));
    report::sort_findings(&mut findings);
    AnomalyReport { window, cluster: None, thresholds: ThresholdsUsed::from(t), findings, notes }
}
