//! Access-request approvals: self-approval (the approver is the requester) and approvals outside
//! configured business hours.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Timelike;

use super::fields::{is_approved, str_field};
use super::report::{details, evidence};
use super::{AnomalyFinding, AnomalyKind, AuditEventRow};
use crate::analysis::Severity;

/// Business hours in UTC, `[start, end)` in whole hours; `start > end` wraps past midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusinessHours {
    pub start: u32,
    pub end: u32,
}

/// A business-hours setting that is not `HH-HH`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("business_hours_utc `{0}` is not `HH-HH` with hours 0-24 (e.g. `8-18`)")]
pub struct BusinessHoursError(pub String);

impl BusinessHours {
    /// Parse `8-18` (hours 0–24).
    pub fn parse(s: &str) -> Result<Self, BusinessHoursError> {
        let err = || BusinessHoursError(s.to_owned());
        let (a, b) = s.trim().split_once('-').ok_or_else(err)?;
        let start: u32 = a.trim().parse().map_err(|_| err())?;
        let end: u32 = b.trim().parse().map_err(|_| err())?;
        if start > 24 || end > 24 {
            return Err(err());
        }
        Ok(BusinessHours { start: start % 24, end: end % 24 })
    }

    /// Whether an hour of the day (0–23) is inside; equal bounds mean all day.
    pub fn contains(&self, hour: u32) -> bool {
        match self.start.cmp(&self.end) {
            std::cmp::Ordering::Equal => true,
            std::cmp::Ordering::Less => self.start <= hour && hour < self.end,
            std::cmp::Ordering::Greater => hour >= self.start || hour < self.end,
        }
    }
}

/// Who approved: `reviewer`, else `updated_by` (an update), else the review's `user`.
fn approver(row: &AuditEventRow) -> Option<&str> {
    str_field(&row.raw, "reviewer").or_else(|| str_field(&row.raw, "updated_by")).or_else(|| {
        (row.event == "access_request.review").then_some(row.user.as_deref().filter(|u| !u.is_empty())).flatten()
    })
}

/// Whether a row approves a request (`state` APPROVED on an update, `proposed_state` on a review).
pub(crate) fn approves(row: &AuditEventRow) -> bool {
    match row.event.as_str() {
        "access_request.update" => is_approved(row.raw.get("state")),
        "access_request.review" => is_approved(row.raw.get("proposed_state")),
        _ => false,
    }
}

/// Per request `id`: the requester is the `user` of its `access_request.create`; the approvers are
/// those of its approving update and reviews (an update naming nobody takes its reviews' reviewers).
/// An approver equal to the requester is `self_approval` (high). With business hours, a request
/// approved (first approving event) at an hour outside them is `approval_outside_business_hours` (low).
pub fn detect_approvals(
    approvals: &[AuditEventRow],
    creates: &[AuditEventRow],
    hours: Option<BusinessHours>,
) -> Vec<AnomalyFinding> {
    let requesters: BTreeMap<&str, &AuditEventRow> = creates
        .iter()
        .filter(|c| c.event == "access_request.create")
        .filter_map(|c| Some((str_field(&c.raw, "id")?, c)))
        .collect();
    let mut by_request: BTreeMap<&str, Vec<&AuditEventRow>> = BTreeMap::new();
    for row in approvals.iter().filter(|r| approves(r)) {
        if let Some(id) = str_field(&row.raw, "id") {
            by_request.entry(id).or_default().push(row);
        }
    }
    let mut findings = Vec::new();
    for (id, mut rows) in by_request {
        rows.sort_by(|a, b| (a.time, &a.uid).cmp(&(b.time, &b.uid)));
        let approvers: BTreeSet<&str> = rows.iter().filter_map(|r| approver(r)).collect();
        let create = requesters.get(id);
        let requester = create.and_then(|c| c.user.as_deref()).filter(|u| !u.is_empty());
        let first = rows[0];
        if let Some(requester) = requester.filter(|r| approvers.contains(r)) {
            let create = create.expect("a requester comes from a create event");
            let uids = std::iter::once(create.uid.as_str()).chain(rows.iter().map(|r| r.uid.as_str()));
            let roles = super::fields::str_list(&create.raw, "roles").unwrap_or_default();
            findings.push(AnomalyFinding {
                kind: AnomalyKind::Escalation,
                signal: "self_approval".into(),
                severity: Severity::High,
                subject: requester.to_owned(),
                window_start: create.time.min(first.time),
                window_end: rows[rows.len() - 1].time,
                observed: 1.0,
                threshold: 1.0,
                evidence: evidence(uids),
                details: details([("request", vec![id.to_owned()]), ("roles", roles)]),
                description: "The user in `subject` approved their own access request (`details.request`, \
                              roles in `details.roles`)."
                    .into(),
            });
        }
        if let Some(h) = hours.filter(|h| !h.contains(first.time.hour())) {
            let who = approver(first).or_else(|| approvers.iter().next().copied()).unwrap_or("unknown");
            findings.push(AnomalyFinding {
                kind: AnomalyKind::Escalation,
                signal: "approval_outside_business_hours".into(),
                severity: Severity::Low,
                subject: who.to_owned(),
                window_start: first.time,
                window_end: first.time,
                observed: f64::from(first.time.hour()),
                threshold: f64::from(h.start),
                evidence: evidence(rows.iter().map(|r| r.uid.as_str())),
                details: details([("request", vec![id.to_owned()])]),
                description: format!(
                    "Access request `details.request` was approved by the user in `subject` at {} UTC, outside \
                     business hours {}-{} UTC.",
                    first.time.format("%H:%M"),
                    h.start,
                    h.end
                ),
            });
        }
    }
    findings
}
