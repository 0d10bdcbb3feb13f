//! Recovery of the work of worker incarnations that went offline: running mutations end
//! `outcome_unknown` (at most once), jobs that may run again go back to their queue (at least
//! once for reads), and apalis' own heartbeat-based re-enqueue runs for every queue so recovery
//! never waits for a live worker of that queue.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::jobs::{LEASES_QUEUE, TOOLS_QUEUE};
use super::{DbError, OPS_CHANNEL};

/// Operations `running` on an offline worker whose tool is not in `read_only`: ended `failed`
/// with `outcome_unknown` (a tool not known to be read-only is treated as a mutation), with a
/// `state` event; their job is killed. Returns their ids.
pub async fn fail_lost_mutations(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    read_only: &[String],
    limit: i64,
) -> Result<Vec<Uuid>, DbError> {
    Ok(sqlx::query_scalar(include_str!("sql/fail_lost_mutations.sql"))
        .bind(now)
        .bind(read_only)
        .bind(limit)
        .bind(OPS_CHANNEL)
        .fetch_all(conn)
        .await?)
}

/// Jobs held by an offline worker whose operation may run again (never started, or read-only):
/// back to `Pending`, with a `state` event. Returns the operation ids.
pub async fn requeue_lost_jobs(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    read_only: &[String],
    limit: i64,
) -> Result<Vec<Uuid>, DbError> {
    Ok(sqlx::query_scalar(include_str!("sql/requeue_lost_jobs.sql"))
        .bind(now)
        .bind(read_only)
        .bind(limit)
        .fetch_all(conn)
        .await?)
}

/// apalis' own orphan recovery, for both queues: jobs `Queued`/`Running` under an apalis worker
/// whose heartbeat is older than `dead_for`, whatever its name, go back to `Pending`. apalis runs
/// it only from a live worker of the same queue; run here, it needs none. Mutations it re-queues
/// are refused by the worker's claim. Returns how many jobs moved.
pub async fn requeue_stale_jobs(conn: &mut PgConnection, dead_for: Duration) -> Result<u64, DbError> {
    let mut moved = 0;
    for queue in [TOOLS_QUEUE, LEASES_QUEUE] {
        moved += apalis_postgres::queries::reenqueue_orphaned(&mut *conn, queue, dead_for.as_secs())
            .await
            .map_err(|e| DbError::Queue(e.to_string()))?;
    }
    Ok(moved)
}
