//! Lease sweeps: expiry (owners are told to stop) and leases whose owner went offline.

use chrono::{DateTime, Utc};
use mtcp_shared::db;
use sqlx::PgPool;

use crate::SWEEP_LIMIT;

/// Move leases past their expiry to `stopping`; returns how many.
pub(crate) async fn expire(pool: &PgPool, now: DateTime<Utc>) -> Result<usize, db::DbError> {
    let mut conn = pool.acquire().await?;
    let ids = db::leases::expire_due(&mut conn, now, SWEEP_LIMIT).await?;
    for id in &ids {
        tracing::info!(lease_id = %id, "lease expired; its owner is told to stop it");
    }
    if !ids.is_empty() {
        metrics::counter!("mtcp_reaper_actions_total", "action" => "lease_expired").increment(ids.len() as u64);
    }
    Ok(ids.len())
}

/// Fail the live leases of offline owners; returns how many.
pub(crate) async fn fail_orphaned(pool: &PgPool) -> Result<usize, db::DbError> {
    let mut conn = pool.acquire().await?;
    let ids = db::leases::fail_orphaned(&mut conn, SWEEP_LIMIT).await?;
    for id in &ids {
        tracing::warn!(lease_id = %id, "lease failed: its owner is offline");
    }
    if !ids.is_empty() {
        metrics::counter!("mtcp_reaper_actions_total", "action" => "lease_owner_lost").increment(ids.len() as u64);
    }
    Ok(ids.len())
}
