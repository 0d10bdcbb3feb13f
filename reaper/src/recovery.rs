//! Recovery of jobs held by offline workers: running mutations end `outcome_unknown` (never
//! re-run), jobs that may run again go back to their queue, and apalis' heartbeat-based
//! re-enqueue runs for every queue so recovery never depends on a live worker of that queue.

use std::time::Duration;

use chrono::{DateTime, Utc};
use mtcp_shared::db::{self, recovery};
use sqlx::PgConnection;

use crate::SWEEP_LIMIT;
use crate::actions::{Action, count};

/// What recovery did.
#[derive(Debug, Default)]
pub(crate) struct Recovered {
    pub outcome_unknown: usize,
    pub requeued: usize,
    pub stale_requeued: u64,
}

/// Recover the work of offline workers (and, with `dead_for`, of apalis workers silent that long).
/// Mutations go first, so their jobs are killed before the
/// re-enqueue could hand them to another worker (whose claim would refuse them anyway).
pub(crate) async fn sweep(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    read_only: &[String],
    dead_for: Option<Duration>,
) -> Result<Recovered, db::DbError> {
    let failed = recovery::fail_lost_mutations(&mut *conn, now, read_only, SWEEP_LIMIT).await?;
    for id in &failed {
        tracing::warn!(op_id = %id, "operation failed outcome_unknown: its worker went offline while it ran");
    }
    count(Action::OpOutcomeUnknown, failed.len() as u64);

    let requeued = recovery::requeue_lost_jobs(&mut *conn, now, read_only, SWEEP_LIMIT).await?;
    for id in &requeued {
        tracing::info!(op_id = %id, "job re-queued: its worker went offline");
    }
    // apalis' statement is bounded by the jobs of dead workers only; it has no LIMIT of its own.
    let stale_requeued = match dead_for {
        Some(dead_for) => recovery::requeue_stale_jobs(&mut *conn, dead_for).await?,
        None => 0,
    };
    count(Action::JobRequeued, requeued.len() as u64 + stale_requeued);

    Ok(Recovered { outcome_unknown: failed.len(), requeued: requeued.len(), stale_requeued })
}
