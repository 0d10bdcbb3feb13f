//! The reaper: any number of replicas, one leader (Postgres advisory lock) sweeping on an interval.
//! Each sweep is a set of bounded, set-based statements, steppable through `Reaper::run_once(now)`.

mod agents;
mod leader;
mod leases;
mod retention;

use anyhow::Context;
use chrono::{DateTime, Utc};
use mtcp_shared::config::{Config, ReaperConfig};
use mtcp_shared::db;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

/// Rows one rule touches per sweep at most, so a sweep stays short under any backlog.
pub const SWEEP_LIMIT: i64 = 1000;

/// What one sweep did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SweepReport {
    pub agents_marked_offline: usize,
    pub leases_expired: usize,
    pub leases_owner_lost: usize,
    pub audit_events_deleted: u64,
}

/// The sweeps, independent of leadership so tests can step them.
#[derive(Clone)]
pub struct Reaper {
    pool: PgPool,
    settings: ReaperConfig,
    /// Audit events older than this are deleted.
    audit_retention: std::time::Duration,
}

impl Reaper {
    pub fn new(pool: PgPool, settings: ReaperConfig, audit_retention: std::time::Duration) -> Self {
        Self { pool, settings, audit_retention }
    }

    /// One sweep at time `now`.
    pub async fn run_once(&self, now: DateTime<Utc>) -> Result<SweepReport, db::DbError> {
        let agents_marked_offline = agents::sweep(&self.pool, now, self.settings.agent_offline_after).await?;
        let leases_expired = leases::expire(&self.pool, now).await?;
        let leases_owner_lost = leases::fail_orphaned(&self.pool).await?;
        let audit_events_deleted = retention::sweep_audit(&self.pool, now, self.audit_retention).await?;
        let online = db::agents::count_online(&self.pool, "worker").await?;
        metrics::gauge!("mtcp_workers_online").set(online as f64);
        Ok(SweepReport { agents_marked_offline, leases_expired, leases_owner_lost, audit_events_deleted })
    }
}

/// Run the reaper until `shutdown` fires.
pub async fn run(config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    let pool =
        db::connect(config.database_url()?, config.database.max_connections, config.database.connect_timeout).await?;
    db::ensure_migrated(&pool).await?;
    let ops = mtcp_shared::telemetry::serve_ops(config.reaper.listen, pool.clone(), shutdown.clone())
        .await
        .with_context(|| format!("binding reaper.listen {}", config.reaper.listen))?;
    tracing::info!(addr = %ops, "reaper health and metrics listening");
    let reaper = Reaper::new(pool.clone(), config.reaper.clone(), config.audit.retention);
    leader::run(pool, reaper, config.reaper.interval, shutdown).await;
    Ok(())
}
