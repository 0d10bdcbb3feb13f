//! `mtcp_queue_depth{queue}`: every worker counts the jobs waiting on each queue at its heartbeat
//! interval (so the gauge survives any one worker; dashboards take the max over workers).

use std::time::Duration;

use mtcp_shared::db::{self, jobs::LEASES_QUEUE, jobs::TOOLS_QUEUE};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

/// Count once and set the gauges.
pub(crate) async fn run_once(pool: &PgPool) -> Result<(), db::DbError> {
    for queue in [TOOLS_QUEUE, LEASES_QUEUE] {
        let depth = db::jobs::queue_depth(pool, queue).await?;
        metrics::gauge!("mtcp_queue_depth", "queue" => queue).set(depth as f64);
    }
    Ok(())
}

/// Count every `every` until `stop` fires.
pub(crate) async fn run(pool: PgPool, every: Duration, stop: CancellationToken) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        if let Err(e) = run_once(&pool).await {
            tracing::warn!(error = %e, "counting the jobs waiting on the queues");
        }
    }
}
