//! The reaper: any number of replicas, one leader (Postgres advisory lock) sweeping on an interval.
//! Each sweep is a set of bounded, set-based statements, steppable through `Reaper::run_once(now)`.

mod actions;
mod agents;
mod leader;
mod leases;
mod recovery;
mod retention;

use std::time::Instant;

use anyhow::Context;
use chrono::{DateTime, Utc};
use mtcp_shared::config::{ApprovalsConfig, Config, ReaperConfig};
use mtcp_shared::db;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

/// Rows one rule touches per sweep at most, so a sweep stays short under any backlog.
pub const SWEEP_LIMIT: i64 = 1000;

/// What one sweep did, one field per rule.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SweepReport {
    /// Online agents silent past `agent_offline_after`, now offline.
    pub agents_marked_offline: usize,
    /// Live leases (starting included) of offline owners, now `failed` (`owner_lost`).
    pub leases_owner_lost: usize,
    /// Leases past `expires_at`, now `stopping` (`expired`).
    pub leases_expired: usize,
    /// Leases no worker started within `lease_start_deadline`, now `failed` (`never_started`).
    pub leases_never_started: usize,
    /// Leases stopped before any worker took them, now ended.
    pub leases_ended_unstarted: usize,
    /// Calls running on offline workers that may not run again (mutations: `outcome_unknown`;
    /// reads out of attempts), now `failed`.
    pub ops_outcome_unknown: usize,
    /// Reads running on offline worker incarnations, back in their queue.
    pub jobs_requeued: usize,
    /// Coalesced calls whose run ended while no gateway waited for them, now settled.
    pub followers_settled: usize,
    /// Calls nobody approved before their approval's expiry, now `expired` (never run).
    pub approvals_expired: usize,
    /// Ended leases past `leases_retention`, deleted with their logs.
    pub leases_deleted: u64,
    /// Finished operations past `operations_retention`, deleted with their events.
    pub operations_deleted: u64,
    /// Audit events past the audit retention, deleted.
    pub audit_events_deleted: u64,
    /// Rate-limit rows of actors idle for an hour, deleted.
    pub rate_limits_deleted: u64,
}

impl SweepReport {
    /// Some rule acted on `SWEEP_LIMIT` rows, so more may be waiting: the leader sweeps again at
    /// once instead of after `reaper.interval`. Statements stay bounded (short locks) while a
    /// backlog (a mass expiry, a lost worker's leases, retention after an outage) drains quickly.
    pub fn backlog(&self) -> bool {
        let limit = SWEEP_LIMIT as u64;
        [
            self.agents_marked_offline,
            self.leases_owner_lost,
            self.leases_expired,
            self.leases_never_started,
            self.leases_ended_unstarted,
            self.ops_outcome_unknown,
            self.jobs_requeued,
            self.followers_settled,
            self.approvals_expired,
        ]
        .into_iter()
        .map(|n| n as u64)
        .chain([self.leases_deleted, self.operations_deleted, self.audit_events_deleted])
        .any(|n| n >= limit)
    }
}

/// The sweeps, independent of leadership so tests can step them.
#[derive(Clone)]
pub struct Reaper {
    pool: PgPool,
    settings: ReaperConfig,
    /// Audit events older than this are deleted.
    audit_retention: std::time::Duration,
    /// Where an expired approval is announced.
    approvals: ApprovalsConfig,
}

impl Reaper {
    pub fn new(pool: PgPool, settings: ReaperConfig, audit_retention: std::time::Duration) -> Self {
        Self { pool, settings, audit_retention, approvals: ApprovalsConfig::default() }
    }

    /// Announce expired approvals as `approvals` says (by default: no webhook).
    pub fn with_approvals(mut self, approvals: ApprovalsConfig) -> Self {
        self.approvals = approvals;
        self
    }

    /// One sweep at time `now`. Each rule is one bounded statement that commits on its own, so a
    /// failure part-way leaves every completed rule done and the next sweep carries on.
    pub async fn run_once(&self, now: DateTime<Utc>) -> Result<SweepReport, db::DbError> {
        self.sweep(now, true).await
    }

    /// A sweep; with `judge_silence` false, the rule that reads silence as death (agents past
    /// their heartbeat threshold) waits: see `leader`.
    pub(crate) async fn sweep(&self, now: DateTime<Utc>, judge_silence: bool) -> Result<SweepReport, db::DbError> {
        let started = Instant::now();
        let mut conn = self.pool.acquire().await?;
        let s = &self.settings;
        let agents_marked_offline =
            if judge_silence { agents::sweep(&mut conn, now, s.agent_offline_after).await? } else { 0 };
        let moved = leases::sweep(&mut conn, now, s.lease_start_deadline).await?;
        let recovered = recovery::sweep(&mut conn, now).await?;
        let approvals_expired =
            mtcp_shared::approvals::expire_due(&self.pool, &self.approvals, now, SWEEP_LIMIT).await?;
        actions::count(actions::Action::ApprovalExpired, approvals_expired);
        let ages = retention::Ages {
            leases: s.leases_retention,
            operations: s.operations_retention,
            audit_events: self.audit_retention,
        };
        let deleted = retention::sweep(&mut conn, now, ages).await?;
        let online = db::agents::count_online(&mut *conn, "worker").await?;
        metrics::gauge!("mtcp_workers_online").set(online as f64);
        let edges = db::agents::count_online(&mut *conn, "edge").await?;
        metrics::gauge!("mtcp_edge_agents_online").set(edges as f64);
        let edge_leases = db::edge::live_leases(&mut *conn).await?;
        metrics::gauge!("mtcp_edge_leases_live").set(edge_leases as f64);
        metrics::histogram!("mtcp_reaper_sweep_duration_seconds").record(started.elapsed().as_secs_f64());
        Ok(SweepReport {
            agents_marked_offline,
            leases_owner_lost: moved.owner_lost,
            leases_expired: moved.expired,
            leases_never_started: moved.never_started,
            leases_ended_unstarted: moved.ended_unstarted,
            ops_outcome_unknown: recovered.outcome_unknown,
            jobs_requeued: recovered.requeued,
            followers_settled: recovered.followers_settled,
            approvals_expired: approvals_expired as usize,
            leases_deleted: deleted.leases,
            operations_deleted: deleted.operations,
            audit_events_deleted: deleted.audit_events,
            rate_limits_deleted: deleted.rate_limits,
        })
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
    let reaper = Reaper::new(pool.clone(), config.reaper.clone(), config.audit.retention)
        .with_approvals(config.approvals.clone());
    leader::run(pool, reaper, config.reaper.interval, config.reaper.agent_offline_after, shutdown).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_at_the_limit_is_a_backlog_and_an_idle_sweep_is_not() {
        assert!(!SweepReport::default().backlog());
        let below =
            SweepReport { leases_expired: SWEEP_LIMIT as usize - 1, audit_events_deleted: 5, ..Default::default() };
        assert!(!below.backlog());
        assert!(SweepReport { leases_expired: SWEEP_LIMIT as usize, ..Default::default() }.backlog());
        assert!(SweepReport { operations_deleted: SWEEP_LIMIT as u64, ..Default::default() }.backlog());
    }
}
