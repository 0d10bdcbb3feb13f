//! This process incarnation in the `agents` table: registration, heartbeat, deregistration.

use std::time::Duration;

use mtcp_shared::db::{self, agents::NewAgent};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// A registered worker incarnation.
#[derive(Debug, Clone)]
pub struct Agent {
    pub id: Uuid,
    /// The host name and kernel boot id: with a pid and its start time they identify a process.
    pub host: String,
    pub boot_id: String,
}

impl Agent {
    /// Register a new incarnation. The id is fresh for every process start: recovery tells a dead
    /// incarnation's calls from a live one's by it.
    /// `clusters`: the clusters it serves.
    pub async fn register(pool: &PgPool, clusters: &[String]) -> Result<Self, db::DbError> {
        let id = Uuid::from(ulid::Ulid::generate());
        let host = hostname::get().map(|h| h.to_string_lossy().into_owned()).unwrap_or_else(|_| "unknown".into());
        let boot_id =
            std::fs::read_to_string("/proc/sys/kernel/random/boot_id").map(|s| s.trim().to_owned()).unwrap_or_default();
        db::agents::register(
            pool,
            &NewAgent {
                agent_id: id,
                kind: "worker",
                host: &host,
                boot_id: &boot_id,
                pid: std::process::id(),
                version: env!("CARGO_PKG_VERSION"),
                clusters: Some(clusters),
            },
        )
        .await?;
        tracing::info!(agent_id = %id, %host, "worker registered");
        Ok(Self { id, host, boot_id })
    }

    /// The apalis worker name of a lane's worker in this incarnation.
    pub fn apalis_name(&self, lane: mtcp_shared::db::queue::Lane) -> String {
        format!("{}-{}", lane.as_str(), self.id)
    }

    /// Heartbeat until `until` fires. Returns true if the reaper declared this incarnation offline,
    /// in which case `stop` is cancelled: its jobs are being recovered elsewhere. The beat outlives
    /// the work (`until` fires after the leases are stopped), so a slow clean shutdown never looks
    /// like a dead worker to the reaper.
    pub async fn heartbeat_loop(
        self,
        pool: PgPool,
        every: Duration,
        until: CancellationToken,
        stop: CancellationToken,
    ) -> bool {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = until.cancelled() => return false,
                _ = tick.tick() => {}
            }
            match db::agents::heartbeat(&pool, self.id).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::error!(agent_id = %self.id, "declared offline by the reaper; stopping");
                    stop.cancel();
                    return true;
                }
                // A database blip: keep trying; the threshold covers several missed beats.
                Err(e) => tracing::warn!(agent_id = %self.id, error = %e, "heartbeat failed"),
            }
        }
    }

    /// Mark this incarnation offline on a clean stop.
    pub async fn deregister(&self, pool: &PgPool) {
        if let Err(e) = db::agents::deregister(pool, self.id).await {
            tracing::warn!(agent_id = %self.id, error = %e, "could not mark the worker offline");
        }
    }
}
