//! `mtcp_queue_depth{queue}` and `mtcp_queue_oldest_seconds{queue}`: every worker reads, at its
//! heartbeat interval, the calls waiting on each lane and how long the oldest claimable one has
//! waited (one statement for all lanes), so the gauges survive any one worker; dashboards and
//! scalers take the max over workers.

use std::time::Duration;

use mtcp_shared::db;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

/// Read once and set the gauges.
pub(crate) async fn run_once(pool: &PgPool) -> Result<(), db::DbError> {
    for s in db::queue::lane_stats(pool).await? {
        metrics::gauge!("mtcp_queue_depth", "queue" => s.lane.as_str()).set(s.depth as f64);
        metrics::gauge!("mtcp_queue_oldest_seconds", "queue" => s.lane.as_str()).set(s.oldest_seconds);
    }
    Ok(())
}

/// Read every `every` until `stop` fires.
pub(crate) async fn run(pool: PgPool, every: Duration, stop: CancellationToken) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        if let Err(e) = run_once(&pool).await {
            tracing::warn!(error = %e, "reading the calls waiting on the queues");
        }
    }
}
