//! Edge agents: their credentials (`edge_agents`), their runs (`agents` rows of kind `edge`), and
//! the lease work addressed to them (starts on the `edge` lane, stops of the leases they own).

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::{DbError, storable};
use crate::domain::OpId;

/// An edge agent as its credential finds it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EdgeAgent {
    pub name: String,
    pub owner: String,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Create an edge agent; false when the name is taken.
pub async fn create(
    conn: impl PgExecutor<'_>,
    name: &str,
    owner: &str,
    sha256: &[u8; 32],
    description: Option<&str>,
) -> Result<bool, DbError> {
    let r = sqlx::query(
        "INSERT INTO edge_agents (name, owner, sha256, description) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(owner)
    .bind(&sha256[..])
    .bind(description.map(|d| storable(d).into_owned()))
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// The agent a credential (its SHA-256) belongs to.
pub async fn find_by_hash(conn: impl PgExecutor<'_>, sha256: &[u8; 32]) -> Result<Option<EdgeAgent>, DbError> {
    Ok(sqlx::query_as("SELECT name, owner, revoked_at FROM edge_agents WHERE sha256 = $1")
        .bind(&sha256[..])
        .fetch_optional(conn)
        .await?)
}

/// An agent by name.
pub async fn get(conn: impl PgExecutor<'_>, name: &str) -> Result<Option<EdgeAgent>, DbError> {
    Ok(sqlx::query_as("SELECT name, owner, revoked_at FROM edge_agents WHERE name = $1")
        .bind(name)
        .fetch_optional(conn)
        .await?)
}

/// An agent with how it is doing, for `list_edge_agents` and `mtcp edge ls`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EdgeAgentStatus {
    pub name: String,
    pub owner: String,
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Its current run, when one is online.
    pub online: bool,
    pub host: Option<String>,
    pub last_heartbeat_at: Option<DateTime<Utc>>,
    pub live_leases: i64,
}

/// Every agent (or those of `owner`), by name.
pub async fn list(conn: impl PgExecutor<'_>, owner: Option<&str>) -> Result<Vec<EdgeAgentStatus>, DbError> {
    Ok(sqlx::query_as(
        "SELECT e.name, e.owner, e.description, e.created_at, e.revoked_at,
                r.agent_id IS NOT NULL AS online, r.host, r.last_heartbeat_at,
                (SELECT count(*) FROM leases l
                 WHERE l.edge_agent = e.name AND l.status IN ('starting', 'active', 'stopping')) AS live_leases
         FROM edge_agents e
         LEFT JOIN LATERAL (SELECT agent_id, host, last_heartbeat_at FROM agents
                            WHERE edge_name = e.name AND status = 'online'
                            ORDER BY started_at DESC LIMIT 1) r ON true
         WHERE $1::text IS NULL OR e.owner = $1
         ORDER BY e.name",
    )
    .bind(owner)
    .fetch_all(conn)
    .await?)
}

/// Revoke an agent's credential and end its run (its leases then end `owner_lost` with the reaper's
/// next sweep, and the agent, refused, kills them). False when no such unrevoked agent exists.
pub async fn revoke(conn: impl PgExecutor<'_>, name: &str) -> Result<bool, DbError> {
    // A data-modifying CTE runs whether or not the outer query reads it.
    let revoked: i64 = sqlx::query_scalar(
        "WITH e AS (UPDATE edge_agents SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL RETURNING name),
              r AS (UPDATE agents SET status = 'offline', offline_at = now()
                    WHERE edge_name IN (SELECT name FROM e) AND status = 'online' RETURNING agent_id)
         SELECT count(*) FROM e",
    )
    .bind(name)
    .fetch_one(conn)
    .await?;
    Ok(revoked == 1)
}

/// A new run of the agent: earlier runs are over (offline, their live leases `failed/owner_lost`
/// at once: the new run killed their processes before it registered).
pub async fn register(
    conn: &mut PgConnection,
    name: &str,
    agent_id: Uuid,
    host: &str,
    boot_id: &str,
    pid: i32,
    version: &str,
) -> Result<u64, DbError> {
    let ended: i64 = sqlx::query_scalar(
        "WITH old AS (UPDATE agents SET status = 'offline', offline_at = now()
                      WHERE edge_name = $1 AND status = 'online' RETURNING agent_id),
              l AS (UPDATE leases SET status = 'failed', stop_reason = 'owner_lost', ended_at = now()
                    WHERE agent_id IN (SELECT agent_id FROM old) AND status IN ('starting', 'active', 'stopping')
                    RETURNING lease_id)
         SELECT count(*) FROM l",
    )
    .bind(name)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO agents (agent_id, kind, edge_name, host, boot_id, pid, version)
         VALUES ($1, 'edge', $2, $3, $4, $5, $6)",
    )
    .bind(agent_id)
    .bind(name)
    .bind(storable(host).as_ref())
    .bind(storable(boot_id).as_ref())
    .bind(pid.max(1))
    .bind(storable(version).as_ref())
    .execute(&mut *conn)
    .await?;
    Ok(u64::try_from(ended).unwrap_or(0))
}

/// The host of `agent_id` when it is the agent's current (online) run.
pub async fn current_run(conn: impl PgExecutor<'_>, name: &str, agent_id: Uuid) -> Result<Option<String>, DbError> {
    Ok(sqlx::query_scalar("SELECT host FROM agents WHERE agent_id = $1 AND edge_name = $2 AND status = 'online'")
        .bind(agent_id)
        .bind(name)
        .fetch_optional(conn)
        .await?)
}

/// Claim the oldest lease start placed on agent `name` for its run `agent_id`: the operation turns
/// `running` under the run, like a worker's claim. (op id, lease id).
pub async fn claim_start(
    conn: impl PgExecutor<'_>,
    name: &str,
    agent_id: Uuid,
) -> Result<Option<(OpId, Uuid)>, DbError> {
    let row: Option<(Uuid, Uuid)> = sqlx::query_as(
        "WITH picked AS (
            SELECT o.op_id, l.lease_id FROM operations o JOIN leases l ON l.op_id = o.op_id
            WHERE o.status = 'queued' AND o.lane = 'edge' AND l.edge_agent = $1
            ORDER BY o.created_at LIMIT 1
            FOR UPDATE OF o SKIP LOCKED)
         UPDATE operations o SET status = 'running', attempt = o.attempt + 1, worker_id = $2, started_at = now()
         FROM picked WHERE o.op_id = picked.op_id
         RETURNING o.op_id, picked.lease_id",
    )
    .bind(name)
    .bind(agent_id.to_string())
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(op, lease)| (OpId(op), lease)))
}

/// Leases of run `agent_id` asked to stop: (lease id, why).
pub async fn stops(conn: impl PgExecutor<'_>, agent_id: Uuid) -> Result<Vec<(Uuid, String)>, DbError> {
    Ok(sqlx::query_as(
        "SELECT lease_id, coalesce(stop_reason, 'stop') FROM leases WHERE agent_id = $1 AND status = 'stopping'",
    )
    .bind(agent_id)
    .fetch_all(conn)
    .await?)
}

/// Of `lease_ids`, those that are not live leases of run `agent_id` any more (the agent kills them).
pub async fn not_live(conn: impl PgExecutor<'_>, agent_id: Uuid, lease_ids: &[Uuid]) -> Result<Vec<Uuid>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM unnest($2::uuid[]) AS t(id)
         WHERE NOT EXISTS (SELECT 1 FROM leases l WHERE l.lease_id = t.id AND l.agent_id = $1
                           AND l.status IN ('starting', 'active', 'stopping'))",
    )
    .bind(agent_id)
    .bind(lease_ids)
    .fetch_all(conn)
    .await?)
}

/// Whether `lease_id` is owned by run `agent_id` (any status): what a report may touch.
pub async fn owns(conn: impl PgExecutor<'_>, agent_id: Uuid, lease_id: Uuid) -> Result<bool, DbError> {
    Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM leases WHERE lease_id = $1 AND agent_id = $2)")
        .bind(lease_id)
        .bind(agent_id)
        .fetch_one(conn)
        .await?)
}

/// Live leases placed on edge agents (the `mtcp_edge_leases_live` gauge).
pub async fn live_leases(conn: impl PgExecutor<'_>) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM leases WHERE edge_agent IS NOT NULL AND status IN ('starting', 'active', 'stopping')",
    )
    .fetch_one(conn)
    .await?)
}
