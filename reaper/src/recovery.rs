//! Recovery of calls held by offline workers: running mutations end `outcome_unknown` (never
//! re-run), running reads go back to their queue while they have attempts left; coalesced calls
//! whose run ended while nobody waited for them (their gateway went away) are settled.

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
    pub followers_settled: usize,
}

/// Recover the work of offline workers.
pub(crate) async fn sweep(conn: &mut PgConnection, now: DateTime<Utc>) -> Result<Recovered, db::DbError> {
    let failed = recovery::fail_lost(&mut *conn, now, SWEEP_LIMIT).await?;
    for id in &failed {
        tracing::warn!(op_id = %id, "operation failed: its worker went offline while it ran, and it may not run again");
    }
    count(Action::OpOutcomeUnknown, failed.len() as u64);

    let requeued = recovery::requeue_lost(&mut *conn, now, SWEEP_LIMIT).await?;
    for id in &requeued {
        tracing::info!(op_id = %id, "call re-queued: its worker went offline");
    }
    count(Action::JobRequeued, requeued.len() as u64);

    let settled = db::operations::settle_orphan_followers(&mut *conn, SWEEP_LIMIT).await? as usize;
    count(Action::FollowerSettled, settled as u64);

    Ok(Recovered { outcome_unknown: failed.len(), requeued: requeued.len(), followers_settled: settled })
}
