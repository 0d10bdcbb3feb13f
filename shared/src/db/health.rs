//! Control-plane facts for the health check: queue depth, workers online, leases past expiry.

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
    let queue_depth = super::jobs::queue_depth(pool, super::jobs::TOOLS_QUEUE).await?;
    let workers_online = super::agents::count_online(pool, "worker").await?;
    let overdue_leases: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM leases WHERE status IN ('starting', 'active', 'stopping')
           AND expires_at < now() - interval '1 minute'",
    )
    .fetch_one(pool)
    .await?;
    Ok(SelfFacts { queue_depth, workers_online, overdue_leases })
}
