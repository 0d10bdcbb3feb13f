//! Control-plane facts for the health check and `mtcp doctor`: queue depth, workers online,
//! leases past expiry or stuck.

use sqlx::PgPool;

use super::DbError;

/// What the control plane knows about itself.
#[derive(Debug, Clone, Copy)]
pub struct SelfFacts {
    pub queue_depth: i64,
    pub workers_online: i64,
    /// Leases still live (starting/active/stopping) more than a minute past `expires_at`.
    pub overdue_leases: i64,
}

/// Gather the facts (three small queries).
pub async fn self_facts(pool: &PgPool) -> Result<SelfFacts, DbError> {
    let queue_depth = super::queue::depth(pool, super::queue::Lane::Tools).await?;
    let workers_online = super::agents::count_online(pool, "worker").await?;
    let overdue_leases: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM leases WHERE status IN ('starting', 'active', 'stopping')
           AND expires_at < now() - interval '1 minute'",
    )
    .fetch_one(pool)
    .await?;
    Ok(SelfFacts { queue_depth, workers_online, overdue_leases })
}

/// Leases that need a look (`mtcp doctor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StuckLeases {
    /// Still `starting` longer than the start deadline.
    pub starting: i64,
    /// `stopping` for longer than the start deadline too.
    pub stopping: i64,
    /// Live more than a minute past `expires_at` (the reaper is not expiring them).
    pub overdue: i64,
}

/// Count the leases stuck in `starting` or `stopping` longer than `deadline`, and the live ones
/// past expiry. Starting leases are timed from creation; stopping ones from their last heartbeat.
pub async fn stuck_leases(pool: &PgPool, deadline: std::time::Duration) -> Result<StuckLeases, DbError> {
    let secs = deadline.as_secs_f64();
    let (starting, stopping, overdue): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE status = 'starting' AND created_at < now() - make_interval(secs => $1)),
                count(*) FILTER (WHERE status = 'stopping'
                                   AND coalesce(last_heartbeat_at, created_at) < now() - make_interval(secs => $1)),
                count(*) FILTER (WHERE expires_at < now() - interval '1 minute')
         FROM leases WHERE status IN ('starting', 'active', 'stopping')",
    )
    .bind(secs)
    .fetch_one(pool)
    .await?;
    Ok(StuckLeases { starting, stopping, overdue })
}
