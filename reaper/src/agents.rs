//! Stale agents: an online agent silent past the threshold is marked offline.

use std::time::Duration;

use chrono::{DateTime, Utc};
use mtcp_shared::db;
use sqlx::PgPool;

use crate::SWEEP_LIMIT;

/// Mark stale agents offline; returns how many.
pub(crate) async fn sweep(pool: &PgPool, now: DateTime<Utc>, threshold: Duration) -> Result<usize, db::DbError> {
    let ids = db::agents::mark_stale_offline(pool, now, threshold, SWEEP_LIMIT).await?;
    for id in &ids {
        tracing::warn!(agent_id = %id, threshold_secs = threshold.as_secs(), "agent marked offline: missed heartbeats");
    }
    if !ids.is_empty() {
        metrics::counter!("mtcp_reaper_actions_total", "action" => "agent_offline").increment(ids.len() as u64);
    }
    Ok(ids.len())
}
