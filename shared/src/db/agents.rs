//! The `agents` table: worker incarnations, their heartbeats and the offline sweep.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use super::DbError;

/// A process incarnation registering itself.
#[derive(Debug, Clone)]
pub struct NewAgent<'a> {
    pub agent_id: Uuid,
    pub kind: &'a str,
    pub host: &'a str,
    pub boot_id: &'a str,
    pub pid: u32,
    pub version: &'a str,
    /// The clusters a worker serves (its lanes); none for other kinds.
    pub clusters: Option<&'a [String]>,
}

/// Register an incarnation as online.
pub async fn register(conn: impl PgExecutor<'_>, a: &NewAgent<'_>) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO agents (agent_id, kind, host, boot_id, pid, version, clusters) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
        .bind(a.agent_id)
        .bind(a.kind)
        .bind(a.host)
        .bind(a.boot_id)
        .bind(a.pid as i32)
        .bind(a.version)
        .bind(a.clusters)
        .execute(conn)
        .await?;
    Ok(())
}

/// Record a heartbeat. Returns false when the agent was already declared offline: its work has
/// been recovered by others, so it must not carry on as if nothing happened.
pub async fn heartbeat(conn: impl PgExecutor<'_>, agent_id: Uuid) -> Result<bool, DbError> {
    let r = sqlx::query("UPDATE agents SET last_heartbeat_at = now() WHERE agent_id = $1 AND status = 'online'")
        .bind(agent_id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Mark an agent offline on clean shutdown.
pub async fn deregister(conn: impl PgExecutor<'_>, agent_id: Uuid) -> Result<(), DbError> {
    sqlx::query("UPDATE agents SET status = 'offline', offline_at = now() WHERE agent_id = $1 AND status = 'online'")
        .bind(agent_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// An agent the offline sweep took offline.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WentOffline {
    pub agent_id: Uuid,
    pub host: String,
    pub last_heartbeat_at: DateTime<Utc>,
}

/// Mark every online agent silent since before `now - threshold` offline; returns them.
/// One set-based statement, bounded by `limit` per sweep.
pub async fn mark_stale_offline(
    conn: impl PgExecutor<'_>,
    now: DateTime<Utc>,
    threshold: Duration,
    limit: i64,
) -> Result<Vec<WentOffline>, DbError> {
    let cutoff = super::before(now, threshold);
    Ok(sqlx::query_as(
        "UPDATE agents SET status = 'offline', offline_at = $1
         WHERE agent_id IN (SELECT agent_id FROM agents
                            WHERE status = 'online' AND last_heartbeat_at < $2
                            ORDER BY last_heartbeat_at LIMIT $3 FOR UPDATE SKIP LOCKED)
         RETURNING agent_id, host, last_heartbeat_at",
    )
    .bind(now)
    .bind(cutoff)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// Number of online agents of a kind (health checks, metrics).
pub async fn count_online(conn: impl PgExecutor<'_>, kind: &str) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM agents WHERE status = 'online' AND kind = $1")
        .bind(kind)
        .fetch_one(conn)
        .await?)
}

/// An agent's status text, if it exists.
pub async fn status(conn: impl PgExecutor<'_>, agent_id: Uuid) -> Result<Option<String>, DbError> {
    Ok(sqlx::query_scalar("SELECT status FROM agents WHERE agent_id = $1").bind(agent_id).fetch_optional(conn).await?)
}

/// One worker incarnation as the console lists it, with the jobs it is running now.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AgentRow {
    pub agent_id: Uuid,
    pub kind: String,
    pub host: String,
    pub pid: i32,
    pub version: String,
    pub started_at: DateTime<Utc>,
    pub last_heartbeat_at: DateTime<Utc>,
    pub status: String,
    pub edge_name: Option<String>,
    /// Operations it holds in `running`.
    pub running: i64,
    /// Live leases it owns.
    pub live_leases: i64,
}

/// Incarnations online, and those that went offline within `recent`, newest first (at most 200).
pub async fn list(conn: impl PgExecutor<'_>, recent: Duration) -> Result<Vec<AgentRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT a.agent_id, a.kind, a.host, a.pid, a.version, a.started_at, a.last_heartbeat_at, a.status,
                a.edge_name,
                (SELECT count(*) FROM operations o WHERE o.worker_id = a.agent_id::text AND o.status = 'running')
                    AS running,
                (SELECT count(*) FROM leases l WHERE l.agent_id = a.agent_id
                    AND l.status IN ('starting', 'active', 'stopping')) AS live_leases
         FROM agents a
         WHERE a.status = 'online' OR a.offline_at > now() - make_interval(secs => $1)
         ORDER BY a.status DESC, a.started_at DESC LIMIT 200",
    )
    .bind(recent.as_secs_f64())
    .fetch_all(conn)
    .await?)
}
