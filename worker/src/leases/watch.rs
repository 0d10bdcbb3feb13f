//! Keeping the supervised processes and the `leases` table in agreement: one heartbeat for every
//! lease this incarnation runs, stop notifications acted on at once, and a periodic reconcile as
//! the safety net behind them (a missed notification, a lease the reaper ended).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use mtcp_shared::db::{self, DbError};
use mtcp_shared::notifier::{Note, Subscription};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{Ending, LeaseManager};

impl LeaseManager {
    /// Record one heartbeat for every supervised lease; returns how many rows took it.
    pub(crate) async fn heartbeat_once(&self) -> Result<u64, DbError> {
        let ids = self.ids();
        if ids.is_empty() {
            return Ok(0);
        }
        let mut conn = self.pool.acquire().await?;
        db::leases::heartbeat(&mut *conn, self.agent.id, &ids).await
    }

    /// Stop every supervised lease whose row says it should no longer run (one read for all of
    /// them); returns how many were told to stop.
    pub(crate) async fn reconcile_once(&self) -> Result<usize, DbError> {
        let ids = self.ids();
        if ids.is_empty() {
            return Ok(0);
        }
        let mut conn = self.pool.acquire().await?;
        let rows: HashMap<Uuid, _> =
            db::leases::get_many(&mut *conn, &ids).await?.into_iter().map(|r| (r.lease_id, r)).collect();
        drop(conn);
        let mut stopped = 0;
        for id in ids {
            if let Some(ending) = Ending::from_row(rows.get(&id), self.agent.id) {
                let why = ending.why.clone();
                if self.stop(id, ending) {
                    tracing::info!(lease_id = %id, %why, "reconcile: stopping a lease");
                    stopped += 1;
                }
            }
        }
        Ok(stopped)
    }
}

/// Run `step` every `every` until `stop` fires; errors are logged (the next round retries).
async fn every<F, Fut, T>(every: Duration, stop: CancellationToken, what: &'static str, mut step: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, DbError>>,
{
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        if let Err(e) = step().await {
            tracing::warn!(error = %e, "lease {what} failed");
        }
    }
}

pub(super) async fn heartbeat_loop(mgr: Arc<LeaseManager>, stop: CancellationToken) {
    every(mgr.config.heartbeat_interval, stop, "heartbeat", || mgr.heartbeat_once()).await;
}

pub(super) async fn reconcile_loop(mgr: Arc<LeaseManager>, stop: CancellationToken) {
    every(mgr.config.reconcile_interval, stop, "reconcile", || mgr.reconcile_once()).await;
}

/// Act on stop announcements (`request_stop`, the reaper's expiry) for leases supervised here; after
/// the notifier listened again, compare with the table instead (announcements may be lost).
pub(super) async fn listen_loop(mgr: Arc<LeaseManager>, mut notes: Subscription, stop: CancellationToken) {
    loop {
        let note = tokio::select! {
            _ = stop.cancelled() => return,
            n = notes.recv() => n,
        };
        match note {
            Some(Note::Notified(payload)) => {
                let Ok(id) = payload.parse::<Uuid>() else { continue };
                if mgr.supervises(id)
                    && let Err(e) = mgr.check(id).await
                {
                    tracing::warn!(lease_id = %id, error = %e, "could not read a lease announced as stopping");
                }
            }
            Some(Note::Reconnected) => {
                if let Err(e) = mgr.reconcile_once().await {
                    tracing::warn!(error = %e, "lease reconcile failed");
                }
            }
            None => return,
        }
    }
}
