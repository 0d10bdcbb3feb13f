//! Brute force: failed logins of one user, or from one source IP, within a sliding window.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::report::evidence;
use super::{AnomalyFinding, AnomalyKind, AuditEventRow, LoginBurst, LoginSubject, source_ip};
use crate::analysis::Severity;
use crate::config::AnomalyThresholds;

/// The densest run of events (sorted by time) that fits in `window`: `(first, last)` indexes, both
/// inclusive. None for no events.
pub fn densest_window(times: &[DateTime<Utc>], window: Duration) -> Option<(usize, usize)> {
    let width = chrono::Duration::from_std(window).unwrap_or(chrono::Duration::MAX);
    let mut best: Option<(usize, usize)> = None;
    let mut left = 0;
    for right in 0..times.len() {
        while times[right] - times[left] > width {
            left += 1;
        }
        if best.is_none_or(|(a, b)| right - left > b - a) {
            best = Some((left, right));
        }
    }
    best
}

/// Groups rows by a key and returns, per key whose densest window reaches `min`, the rows of that
/// window. Rows are sorted by time first.
pub(crate) fn bursts(
    rows: &[AuditEventRow],
    key: impl Fn(&AuditEventRow) -> Option<String>,
    window: Duration,
    min: u32,
) -> Vec<(String, Vec<&AuditEventRow>)> {
    let mut groups: BTreeMap<String, Vec<&AuditEventRow>> = BTreeMap::new();
    for row in rows {
        if let Some(k) = key(row) {
            groups.entry(k).or_default().push(row);
        }
    }
    let mut out = Vec::new();
    for (k, mut group) in groups {
        group.sort_by(|a, b| (a.time, &a.uid).cmp(&(b.time, &b.uid)));
        let times: Vec<_> = group.iter().map(|r| r.time).collect();
        if let Some((a, b)) = densest_window(&times, window)
            && b - a + 1 >= min.max(1) as usize
        {
            out.push((k, group[a..=b].to_vec()));
        }
    }
    out
}

/// The finding's signal and the word for the subject.
fn signal(by: LoginSubject) -> (&'static str, &'static str) {
    match by {
        LoginSubject::User => ("failed_logins_per_user", "user"),
        LoginSubject::Source => ("failed_logins_per_source", "source"),
    }
}

/// Failed logins (the caller passes failed `user.login` and `auth` events) per user and per source
/// IP: each subject's densest `brute_force_window` holding at least `brute_force_failures`, sorted by
/// subject kind then subject.
pub fn login_bursts(failed: &[AuditEventRow], t: &AnomalyThresholds) -> Vec<LoginBurst> {
    let by_user =
        bursts(failed, |r| r.user.clone().filter(|u| !u.is_empty()), t.brute_force_window, t.brute_force_failures);
    let by_ip = bursts(
        failed,
        |r| r.remote_addr.as_deref().map(source_ip).filter(|a| !a.is_empty()),
        t.brute_force_window,
        t.brute_force_failures,
    );
    let tagged = by_user.into_iter().map(|b| (LoginSubject::User, b));
    tagged
        .chain(by_ip.into_iter().map(|b| (LoginSubject::Source, b)))
        .map(|(by, (subject, rows))| LoginBurst {
            by,
            subject,
            count: rows.len() as u64,
            first: rows.first().expect("a burst has rows").time,
            last: rows.last().expect("a burst has rows").time,
            evidence: evidence(rows.iter().map(|r| r.uid.as_str())),
        })
        .collect()
}

/// Failed logins per user and per source IP ([`login_bursts`]) as findings.
pub fn detect_brute_force(failed: &[AuditEventRow], t: &AnomalyThresholds) -> Vec<AnomalyFinding> {
    brute_force_findings(&login_bursts(failed, t), t)
}

/// A burst is a finding, high, critical at three times the threshold; evidence is its uids.
pub fn brute_force_findings(bursts: &[LoginBurst], t: &AnomalyThresholds) -> Vec<AnomalyFinding> {
    bursts
        .iter()
        .map(|b| {
            let (signal, what) = signal(b.by);
            let observed = b.count as f64;
            let threshold = f64::from(t.brute_force_failures.max(1));
            let severity = if observed >= 3.0 * threshold { Severity::Critical } else { Severity::High };
            AnomalyFinding {
                kind: AnomalyKind::BruteForce,
                signal: signal.into(),
                severity,
                details: Default::default(),
                description: format!(
                    "{} failed logins for the {what} in `subject` within {}s ({} to {}); threshold {} per {}s.",
                    b.count,
                    (b.last - b.first).num_seconds(),
                    b.first,
                    b.last,
                    t.brute_force_failures,
                    t.brute_force_window.as_secs(),
                ),
                subject: b.subject.clone(),
                window_start: b.first,
                window_end: b.last,
                observed,
                threshold,
                evidence: b.evidence.clone(),
            }
        })
        .collect()
}
