//! Role changes: bursts of `role.created` / `role.updated` / `role.deleted` by one user, and users
//! gaining roles through `user.create` / `user.update`.

use std::collections::{BTreeMap, BTreeSet};

use super::brute_force::bursts;
use super::fields::{str_field, str_list};
use super::report::{details, evidence};
use super::{AnomalyFinding, AnomalyKind, AuditEventRow};
use crate::analysis::Severity;
use crate::config::AnomalyThresholds;

/// Roles that grant control of the cluster: `editor`, and any role named like `admin`, `root` or
/// `superuser`.
pub fn is_privileged_role(role: &str) -> bool {
    let r = role.to_ascii_lowercase();
    r == "editor" || r == "root" || r.contains("admin") || r.contains("superuser")
}

/// Per acting user (`user`, else `unknown`): the densest `role_change_window` holding at least
/// `role_change_burst` role events; medium, high at three times the threshold.
pub fn detect_role_spikes(rows: &[AuditEventRow], t: &AnomalyThresholds) -> Vec<AnomalyFinding> {
    let key = |r: &AuditEventRow| Some(r.user.clone().filter(|u| !u.is_empty()).unwrap_or_else(|| "unknown".into()));
    bursts(rows, key, t.role_change_window, t.role_change_burst)
        .into_iter()
        .map(|(actor, rows)| {
            let observed = rows.len() as f64;
            let threshold = f64::from(t.role_change_burst.max(1));
            let roles: BTreeSet<&str> = rows.iter().filter_map(|r| str_field(&r.raw, "name")).collect();
            let first = rows.first().expect("a burst has rows");
            let last = rows.last().expect("a burst has rows");
            AnomalyFinding {
                kind: AnomalyKind::RoleSpike,
                signal: "role_change_burst".into(),
                severity: if observed >= 3.0 * threshold { Severity::High } else { Severity::Medium },
                description: format!(
                    "The user in `subject` made {} role changes within {}s (threshold {} per {}s) to the roles \
                     in `details.roles`.",
                    rows.len(),
                    (last.time - first.time).num_seconds(),
                    t.role_change_burst,
                    t.role_change_window.as_secs(),
                ),
                details: details([("roles", roles.into_iter().take(20).map(str::to_owned).collect())]),
                subject: actor,
                window_start: first.time,
                window_end: last.time,
                observed,
                threshold,
                evidence: evidence(rows.iter().map(|r| r.uid.as_str())),
            }
        })
        .collect()
}

/// Users gaining roles. The target user is the event's `name`, its roles `roles`. Roles are compared
/// with the user's previous event (from `prior`, the last one before the window, or earlier in the
/// window); a `user.create` starts from none. Gaining a privileged role is high, others low. A
/// `user.update` whose previous roles are unknown is reported (medium) only when it holds a
/// privileged role.
pub fn detect_role_grants(prior: &[AuditEventRow], changes: &[AuditEventRow]) -> Vec<AnomalyFinding> {
    let mut known: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut prior: Vec<&AuditEventRow> = prior.iter().collect();
    prior.sort_by_key(|r| r.time);
    for row in prior {
        if let (Some(name), Some(roles)) = (str_field(&row.raw, "name"), str_list(&row.raw, "roles")) {
            known.insert(name.to_owned(), roles.into_iter().collect());
        }
    }
    let mut changes: Vec<&AuditEventRow> = changes.iter().collect();
    changes.sort_by(|a, b| (a.time, &a.uid).cmp(&(b.time, &b.uid)));
    let mut findings = Vec::new();
    for row in changes {
        let (Some(name), Some(roles)) = (str_field(&row.raw, "name"), str_list(&row.raw, "roles")) else {
            continue;
        };
        let roles: BTreeSet<String> = roles.into_iter().collect();
        let previous = if row.event == "user.create" { Some(BTreeSet::new()) } else { known.get(name).cloned() };
        let (gained, severity, note): (Vec<&String>, Severity, &str) = match &previous {
            Some(prev) => {
                let gained: Vec<&String> = roles.difference(prev).collect();
                let sev = if gained.iter().any(|r| is_privileged_role(r)) { Severity::High } else { Severity::Low };
                (gained, sev, "")
            }
            None => {
                let privileged: Vec<&String> = roles.iter().filter(|r| is_privileged_role(r)).collect();
                (privileged, Severity::Medium, " (previous roles unknown; privileged roles held)")
            }
        };
        known.insert(name.to_owned(), roles.clone());
        if gained.is_empty() {
            continue;
        }
        let gained: Vec<&str> = gained.into_iter().map(String::as_str).collect();
        let actor = row.user.as_deref().unwrap_or("unknown");
        findings.push(AnomalyFinding {
            kind: AnomalyKind::RoleGrant,
            signal: if severity == Severity::Low { "roles_granted" } else { "privileged_role_granted" }.into(),
            severity,
            subject: name.to_owned(),
            window_start: row.time,
            window_end: row.time,
            observed: gained.len() as f64,
            threshold: 1.0,
            evidence: vec![row.uid.clone()],
            details: details([
                ("roles", gained.iter().map(|r| (*r).to_owned()).collect()),
                ("event", vec![row.event.clone()]),
                ("actor", vec![actor.to_owned()]),
            ]),
            description: format!(
                "The user in `subject` gained the roles in `details.roles` (event `details.event`, by the user in \
                 `details.actor`){note}."
            ),
        });
    }
    findings
}
