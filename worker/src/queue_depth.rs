//! `mtcp_queue_depth{queue}`: every worker counts the calls waiting on each lane at its heartbeat
//! interval (so the gauge survives any one worker; dashboards take the max over workers).

use std::time::Duration;

use mtcp_shared::db::{self, queue::Lane};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

/// Count once and set the gauges.
pub(crate) async fn run_once(pool: &PgPool) -> Result<(), db::DbError> {
    for lane in Lane::ALL {
        let depth = db::queue::depth(pool, lane).await?;
        metrics::gauge!("mtcp_queue_depth", "queue" => lane.as_str()).set(depth as f64);
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
