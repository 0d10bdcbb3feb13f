//! Storms: an event type whose count in one hour is far above its median hourly count.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use super::{AnomalyFinding, AnomalyKind, AuditWindow, EventHourCount};
use crate::analysis::Severity;
use crate::config::AnomalyThresholds;

/// Median of the values (mean of the middle two for an even count; 0 for none).
pub fn median(values: &mut [u64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_unstable();
    let mid = values.len() / 2;
    if values.len() % 2 == 1 { values[mid] as f64 } else { (values[mid - 1] + values[mid]) as f64 / 2.0 }
}

/// Per event type: baseline = median hourly count over every hour of the window (zeros included);
/// an hour with `count ≥ max(storm_factor × max(baseline, 1), storm_min_events)` is a storm. Severity
/// medium, high at three times the threshold. Evidence is left empty for the caller to sample.
pub fn detect_storms(window: &AuditWindow, hourly: &[EventHourCount], t: &AnomalyThresholds) -> Vec<AnomalyFinding> {
    let hours: Vec<DateTime<Utc>> = window.hour_starts().collect();
    let mut per_event: BTreeMap<&str, BTreeMap<DateTime<Utc>, u64>> = BTreeMap::new();
    for row in hourly {
        *per_event.entry(&row.event).or_default().entry(row.hour).or_default() += row.count;
    }
    let mut findings = Vec::new();
    for (event, counts) in per_event {
        let mut all: Vec<u64> = hours.iter().map(|h| counts.get(h).copied().unwrap_or(0)).collect();
        let baseline = median(&mut all);
        let threshold = (t.storm_factor * baseline.max(1.0)).max(f64::from(t.storm_min_events));
        for (&hour, &count) in &counts {
            let observed = count as f64;
            if observed < threshold || observed <= 0.0 {
                continue;
            }
            let severity = if observed >= 3.0 * threshold { Severity::High } else { Severity::Medium };
            findings.push(AnomalyFinding {
                kind: AnomalyKind::Storm,
                signal: "event_rate_spike".into(),
                severity,
                subject: event.to_owned(),
                window_start: hour,
                window_end: hour + Duration::hours(1),
                observed,
                threshold,
                evidence: Vec::new(),
                details: Default::default(),
                description: format!(
                    "{count} events of the type in `subject` in the hour from {hour}: at least {threshold} \
                     ({factor} × baseline {baseline}, the median hourly count, and at least {min}). \
                     Evidence lists the first {max} events of that hour.",
                    factor = t.storm_factor,
                    min = t.storm_min_events,
                    max = super::MAX_EVIDENCE,
                ),
            });
        }
    }
    findings
}
