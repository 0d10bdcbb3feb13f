//! The owner's side of the `leases` table: taking a lease to start, heartbeats, the reconcile read,
//! abandoned starts, and the leftovers of this host's previous worker incarnations.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::{LeaseRow, get};
use crate::db::DbError;
use crate::domain::{LeaseStatus, OpId};

/// How taking a lease to start it went.
#[derive(Debug, Clone)]
pub enum Take {
    /// Now owned by the caller (still `starting`).
    Taken(LeaseRow),
    /// Stopped, expired or ended before anyone started it.
    NotStarting(LeaseRow),
    /// Another agent took it first.
    Owned(LeaseRow),
    /// No lease of that id belongs to the operation.
    Missing,
}

/// Take a `starting` lease nobody owns, for `agent_id` on `host`: the worker that claims the start
/// job becomes the owner before it spawns anything, so a stop request can find it. Two statements
/// (the update, then the row as it is now), so a connection rather than any executor.
pub async fn take(
    conn: &mut PgConnection,
    lease_id: Uuid,
    op_id: OpId,
    agent_id: Uuid,
    host: &str,
) -> Result<Take, DbError> {
    let taken: Option<Uuid> = sqlx::query_scalar(
        "UPDATE leases SET agent_id = $3, host = $4
         WHERE lease_id = $1 AND op_id = $2 AND status = 'starting' AND agent_id IS NULL
         RETURNING lease_id",
    )
    .bind(lease_id)
    .bind(op_id.0)
    .bind(agent_id)
    .bind(host)
    .fetch_optional(&mut *conn)
    .await?;
    // The guarded UPDATE decided; the read only says what the row looks like now.
    let row = match get(&mut *conn, lease_id).await? {
        Some(row) if row.op_id == op_id.0 => row,
        _ => return Ok(Take::Missing),
    };
    Ok(if taken.is_some() {
        Take::Taken(row)
    } else if row.status == LeaseStatus::Starting {
        Take::Owned(row)
    } else {
        Take::NotStarting(row)
    })
}

/// Record that `agent_id` still runs these leases (the ones it supervises). One statement.
pub async fn heartbeat(conn: impl PgExecutor<'_>, agent_id: Uuid, lease_ids: &[Uuid]) -> Result<u64, DbError> {
    let r = sqlx::query(
        "UPDATE leases SET last_heartbeat_at = now()
         WHERE lease_id = ANY($1) AND agent_id = $2 AND status IN ('starting', 'active', 'stopping')",
    )
    .bind(lease_ids)
    .bind(agent_id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected())
}

/// The rows of several leases (missing ones are simply absent): the owner's reconcile read.
pub async fn get_many(conn: impl PgExecutor<'_>, lease_ids: &[Uuid]) -> Result<Vec<LeaseRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT lease_id, op_id, kind, actor, target, listen_addr, requested_listen_addr, agent_id, host, pid,
                created_at, expires_at, status, stop_reason, last_heartbeat_at, ended_at, exit_code, edge_agent,
                cluster
         FROM leases WHERE lease_id = ANY($1)",
    )
    .bind(lease_ids)
    .fetch_all(conn)
    .await?)
}

/// A lease process an earlier worker incarnation on this host may have left running.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Leftover {
    pub lease_id: Uuid,
    pub kind: String,
    #[sqlx(try_from = "String")]
    pub status: LeaseStatus,
    pub pid: i32,
    pub pid_start_time: i64,
    pub agent_id: Uuid,
    /// The owning incarnation's pid and status, to tell whether it is still alive.
    pub agent_pid: i32,
    pub agent_status: String,
}

/// Lease processes of other worker incarnations on `host` since the same boot (`boot_id`), live or ended
/// (never an edge agent's, which may share the host and cleans up after itself)
/// since `since`. Only leases whose process was recorded with its start time: a pid alone could
/// name an unrelated process, and `proxy_ssh` leases record the worker itself without one.
pub async fn leftovers(
    conn: impl PgExecutor<'_>,
    host: &str,
    boot_id: &str,
    agent_id: Uuid,
    since: DateTime<Utc>,
) -> Result<Vec<Leftover>, DbError> {
    Ok(sqlx::query_as(
        "SELECT l.lease_id, l.kind, l.status, l.pid, l.pid_start_time, l.agent_id, a.pid AS agent_pid,
                a.status AS agent_status
         FROM leases l JOIN agents a ON a.agent_id = l.agent_id
         WHERE l.host = $1 AND a.boot_id = $2 AND l.agent_id <> $3 AND a.kind = 'worker'
           AND l.pid IS NOT NULL AND l.pid_start_time IS NOT NULL
           AND (l.status IN ('starting', 'active', 'stopping') OR l.ended_at >= $4)",
    )
    .bind(host)
    .bind(boot_id)
    .bind(agent_id)
    .bind(since)
    .fetch_all(conn)
    .await?)
}
