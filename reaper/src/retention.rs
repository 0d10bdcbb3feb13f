//! Retention: old audit events are deleted in bounded batches.

use std::time::Duration;

use chrono::{DateTime, Utc};
use mtcp_shared::db;
use sqlx::PgPool;

use crate::SWEEP_LIMIT;

/// Delete audit events older than `retention` (at most `SWEEP_LIMIT` per sweep).
pub(crate) async fn sweep_audit(pool: &PgPool, now: DateTime<Utc>, retention: Duration) -> Result<u64, db::DbError> {
    let cutoff = now - chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::MAX);
    let deleted = db::audit::delete_older_than(pool, cutoff, SWEEP_LIMIT).await?;
    if deleted > 0 {
        tracing::info!(deleted, "audit events past retention deleted");
        metrics::counter!("mtcp_reaper_actions_total", "action" => "audit_retention").increment(deleted);
    }
    Ok(deleted)
}
