//! The audit tools end to end: read `db::audit`'s rows in one read-only snapshot, then summarize or
//! run the detectors over them (storms get their evidence from the same snapshot).

use chrono::{DateTime, Utc};

use super::summary::histogram_start;
use super::{AnomalyKind, AnomalyReport, AuditSummary, AuditWindow, MAX_EVIDENCE, detect_anomalies, summarize};
use crate::config::AnomalyThresholds;
use crate::db::{DbError, audit};

/// Most storm findings given evidence (one small indexed query each).
const STORM_EVIDENCE_CAP: usize = 100;

/// `search_audit`: aggregate the events of `[since, until)`.
pub async fn search(pool: &sqlx::PgPool, since: DateTime<Utc>, until: DateTime<Utc>) -> Result<AuditSummary, DbError> {
    let window = AuditWindow::new(since, until);
    let (first_hour, note) = histogram_start(&window);
    let mut tx = audit::read_snapshot(pool).await?;
    let aggregates = audit::aggregates(&mut tx, since, until, first_hour).await?;
    tx.commit().await?;
    Ok(summarize(window, aggregates, note.into_iter().collect()))
}

/// `detect_audit_anomalies`: find anomalies in `[since, until)`.
pub async fn anomalies(
    pool: &sqlx::PgPool,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    t: &AnomalyThresholds,
) -> Result<AnomalyReport, DbError> {
    let mut tx = audit::read_snapshot(pool).await?;
    let input = audit::anomaly_input(&mut tx, since, until, t, MAX_EVIDENCE).await?;
    let mut report = detect_anomalies(AuditWindow::new(since, until), &input, t);
    for f in report.findings.iter_mut().filter(|f| f.kind == AnomalyKind::Storm).take(STORM_EVIDENCE_CAP) {
        let (from, to) = (f.window_start.max(since), f.window_end.min(until));
        f.evidence = audit::event_uids(&mut tx, &f.subject, from, to, MAX_EVIDENCE).await?;
    }
    tx.commit().await?;
    Ok(report)
}
