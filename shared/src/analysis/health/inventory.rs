//! Checks on the cluster's moving parts: servers whose heartbeat expired, and certificate
//! authorities whose rotation is stuck, under way, or never happened.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;

use super::HealthCheck;
use crate::analysis::Severity;
use crate::teleport::duration::format_go_duration;
use crate::teleport::models::{CertAuthority, Server};
use crate::teleport::views::NodeList;

/// Heartbeats are renewed about every minute with a ~10 min TTL: a heartbeat expired for longer
/// than this means the agent is down, not restarting.
const STALE_FAIL_AFTER: TimeDelta = TimeDelta::hours(1);

/// Servers (nodes, and proxies if passed too) whose heartbeat `expires` is in the past: warn while
/// every one expired less than an hour ago, fail once one has been silent longer. Id `teleport.stale_nodes`.
pub fn check_stale_nodes(nodes: &[Server], now: DateTime<Utc>) -> HealthCheck {
    const ID: &str = "teleport.stale_nodes";
    const NAME: &str = "Stale node heartbeats";
    let list = NodeList::build(nodes, now);
    let mut stale: Vec<(TimeDelta, serde_json::Value)> = list
        .nodes
        .iter()
        .filter(|n| n.stale)
        .filter_map(|n| {
            let age = now - n.expires?;
            Some((age, json!({ "name": n.name, "hostname": n.hostname, "version": n.version,
                              "expired_at": n.expires.map(|e| e.to_rfc3339()), "stale_for_seconds": age.num_seconds() })))
        })
        .collect();
    stale.sort_by_key(|s| std::cmp::Reverse(s.0));
    let oldest = stale.first().map(|(age, _)| *age);
    let details = json!({ "total": list.count, "stale_count": stale.len(),
                          "stale": stale.into_iter().map(|(_, v)| v).collect::<Vec<_>>() });
    let check = match oldest {
        None if list.count == 0 => HealthCheck::ok(ID, NAME, "no nodes registered"),
        None => HealthCheck::ok(ID, NAME, format!("all {} nodes are heartbeating", list.count)),
        Some(age) => {
            let message = format!(
                "{} of {} nodes stopped heartbeating (longest silent {})",
                list.stale_count,
                list.count,
                format_go_duration(age.to_std().unwrap_or_default())
            );
            if age >= STALE_FAIL_AFTER {
                HealthCheck::fail(ID, NAME, message)
            } else {
                HealthCheck::warn(ID, NAME, message)
            }
        }
    };
    check.with_details(details)
}

/// Certificate authorities: a rotation in progress past its grace period fails; a rotation in
/// progress, or a CA never rotated, warns. Id `teleport.cert_authorities`.
pub fn check_cas(cas: &[CertAuthority], now: DateTime<Utc>) -> HealthCheck {
    const ID: &str = "teleport.cert_authorities";
    const NAME: &str = "Certificate authority rotation";
    if cas.is_empty() {
        return HealthCheck::skipped(ID, NAME, "no certificate authorities to check");
    }
    let (mut past_grace, mut in_progress, mut never_rotated) = (Vec::new(), Vec::new(), Vec::new());
    for ca in cas {
        let label = format!("{}/{}", ca.cluster(), ca.ca_type());
        if let Some(r) = ca.spec.rotation.as_ref().filter(|r| r.in_progress()) {
            let entry = json!({ "ca": label, "phase": r.phase, "mode": r.mode,
                "started": r.started.map(|t| t.to_rfc3339()),
                "grace_period": r.grace_period.map(format_go_duration),
                "grace_ends": r.grace_deadline().map(|t| t.to_rfc3339()) });
            if r.overran_grace(now) { past_grace.push(entry) } else { in_progress.push(entry) }
        }
        if ca.never_rotated() {
            never_rotated.push(label);
        }
    }
    never_rotated.sort();
    let message = format!(
        "{} rotation(s) past the grace period, {} in progress, {} of {} CAs never rotated",
        past_grace.len(),
        in_progress.len(),
        never_rotated.len(),
        cas.len()
    );
    let check = if !past_grace.is_empty() {
        HealthCheck::fail(ID, NAME, message)
    } else if !in_progress.is_empty() {
        HealthCheck::warn(ID, NAME, message)
    } else if !never_rotated.is_empty() {
        HealthCheck::warn(ID, NAME, message).with_severity(Severity::Low)
    } else {
        HealthCheck::ok(ID, NAME, format!("all {} CAs in standby and rotated at least once", cas.len()))
    };
    check.with_details(json!({ "total": cas.len(), "past_grace_period": past_grace,
                               "in_progress": in_progress, "never_rotated": never_rotated }))
}
