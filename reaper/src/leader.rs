//! Leadership: hold the advisory lock on a dedicated connection and sweep while it is held; stand
//! by and retry otherwise. A new leader does not read silence as death for its first
//! `agent_offline_after`: leadership is lost when the database restarts, and every heartbeat is
//! then as old as the outage — the workers get one full threshold to beat again before any of
//! them is declared offline (or its running jobs handed to another worker).

use std::time::{Duration, Instant};

use mtcp_shared::db::leader::{REAPER_LOCK_KEY, release, still_held, try_acquire};
use sqlx::PgPool;
use sqlx::Postgres;
use sqlx::pool::PoolConnection;
use tokio_util::sync::CancellationToken;

use crate::Reaper;

pub(crate) async fn run(
    pool: PgPool,
    reaper: Reaper,
    interval: Duration,
    offline_after: Duration,
    shutdown: CancellationToken,
) {
    let mut leader: Option<PoolConnection<Postgres>> = None;
    let mut led_since = Instant::now();
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tick.tick() => {}
        }
        leader = match leader.take() {
            Some(mut conn) => match still_held(&mut conn, REAPER_LOCK_KEY).await {
                Ok(true) => Some(conn),
                _ => {
                    tracing::warn!("reaper lost leadership");
                    metrics::gauge!("mtcp_reaper_leader").set(0.0);
                    // Detach so a broken connection is not returned to the pool holding state.
                    drop(conn.detach());
                    None
                }
            },
            None => {
                led_since = Instant::now();
                acquire(&pool).await
            }
        };
        if leader.is_some() {
            match reaper.sweep(chrono::Utc::now(), led_since.elapsed() >= offline_after).await {
                Ok(report) => {
                    tracing::debug!(?report, "sweep done");
                    // Next tick at once; leadership is checked again before that sweep.
                    if report.backlog() {
                        tick.reset_immediately();
                    }
                }
                Err(e) => tracing::warn!(error = %e, "sweep failed"),
            }
        }
    }
    if let Some(mut conn) = leader {
        let _ = release(&mut conn, REAPER_LOCK_KEY).await;
    }
}

async fn acquire(pool: &PgPool) -> Option<PoolConnection<Postgres>> {
    let mut conn = match pool.acquire().await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "reaper cannot reach the database");
            return None;
        }
    };
    match try_acquire(&mut conn, REAPER_LOCK_KEY).await {
        Ok(true) => {
            tracing::info!("reaper is the leader");
            metrics::gauge!("mtcp_reaper_leader").set(1.0);
            Some(conn)
        }
        Ok(false) => None,
        Err(e) => {
            tracing::warn!(error = %e, "advisory lock attempt failed");
            None
        }
    }
}
