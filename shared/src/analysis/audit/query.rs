//! The audit tools end to end: read `db::audit`'s rows in one read-only snapshot, then summarize or
//! run the detectors over them (storms get their evidence from the same snapshot).

use chrono::{DateTime, Utc};

use super::summary::histogram_start;
use super::{AnomalyKind, AnomalyReport, AuditSummary, AuditWindow, MAX_EVIDENCE, detect_anomalies, summarize};
use crate::config::{AnomalyThresholds, ClusterConfig};
use crate::db::{DbError, audit};

/// Most storm findings given evidence (one small indexed query each).
const STORM_EVIDENCE_CAP: usize = 100;

/// `search_audit`: aggregate the events of `[since, until)` of `cluster` (the events whose
/// `cluster_name` is its Teleport name), or of every cluster when None.
pub async fn search(
    pool: &sqlx::PgPool,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    cluster: Option<&ClusterConfig>,
) -> Result<AuditSummary, DbError> {
    let window = AuditWindow::new(since, until);
    let (first_hour, note) = histogram_start(&window);
    let mut tx = audit::read_snapshot(pool).await?;
    let aggregates =
        audit::aggregates(&mut tx, since, until, first_hour, cluster.and_then(ClusterConfig::audit_name)).await?;
    tx.commit().await?;
    let mut summary = summarize(window, aggregates, note.into_iter().collect());
    summary.cluster = cluster.map(|c| c.name.clone());
    Ok(summary)
}

/// `detect_audit_anomalies`: find anomalies in `[since, until)` among the events of `cluster` (by
/// its Teleport name), or of every cluster when None.
pub async fn anomalies(
    pool: &sqlx::PgPool,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    cluster: Option<&ClusterConfig>,
    t: &AnomalyThresholds,
) -> Result<AnomalyReport, DbError> {
    let teleport_name = cluster.and_then(ClusterConfig::audit_name);
    let mut tx = audit::read_snapshot(pool).await?;
    let input = audit::anomaly_input(&mut tx, since, until, teleport_name, t, MAX_EVIDENCE).await?;
    let mut report = detect_anomalies(AuditWindow::new(since, until), &input, t);
    report.cluster = cluster.map(|c| c.name.clone());
    for f in report.findings.iter_mut().filter(|f| f.kind == AnomalyKind::Storm).take(STORM_EVIDENCE_CAP) {
        let (from, to) = (f.window_start.max(since), f.window_end.min(until));
        f.evidence = audit::event_uids(&mut tx, &f.subject, from, to, teleport_name, MAX_EVIDENCE).await?;
    }
    tx.commit().await?;
    Ok(report)
}
