//! The `leases` table. Creation enforces the per-actor concurrency cap where it cannot race: the
//! count and the insert run under a transaction-scoped advisory lock on the actor.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::DbError;
use crate::domain::{LeaseKind, LeaseStatus, OpId};

mod owner;
pub use owner::{Leftover, Take, get_many, heartbeat, leftovers, take};

/// A lease to create (`starting`, no owner yet).
#[derive(Debug, Clone)]
pub struct NewLease<'a> {
    pub lease_id: Uuid,
    pub op_id: OpId,
    pub kind: LeaseKind,
    pub actor: &'a str,
    pub target: serde_json::Value,
    pub requested_listen_addr: Option<&'a str>,
    pub expires_at: DateTime<Utc>,
    /// The edge agent that runs it (None: a worker).
    pub edge_agent: Option<&'a str>,
}

/// How a creation went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    Created,
    /// The actor already holds `live` live leases, the cap.
    CapReached {
        live: i64,
    },
}

/// Create a lease if the actor holds fewer than `cap` live ones. Call inside the transaction that
/// records the operation (and pushes the job): the advisory lock serialises concurrent creations
/// by the same actor until that transaction ends, so the cap holds under any concurrency.
pub async fn create_capped(conn: &mut PgConnection, lease: &NewLease<'_>, cap: u32) -> Result<Created, DbError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('mtcp-lease:' || $1, 0))")
        .bind(lease.actor)
        .execute(&mut *conn)
        .await?;
    let live: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM leases WHERE actor = $1 AND status IN ('starting', 'active', 'stopping')",
    )
    .bind(lease.actor)
    .fetch_one(&mut *conn)
    .await?;
    if live >= i64::from(cap) {
        return Ok(Created::CapReached { live });
    }
    sqlx::query(
        "INSERT INTO leases (lease_id, op_id, kind, actor, target, requested_listen_addr, expires_at, status,
                             edge_agent)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'starting', $8)",
    )
    .bind(lease.lease_id)
    .bind(lease.op_id.0)
    .bind(lease.kind.as_str())
    .bind(lease.actor)
    .bind(&lease.target)
    .bind(lease.requested_listen_addr)
    .bind(lease.expires_at)
    .bind(lease.edge_agent)
    .execute(&mut *conn)
    .await?;
    Ok(Created::Created)
}

/// Channel on which lease stop requests are announced to owners (payload: the lease id).
pub const LEASES_CHANNEL: &str = "mtcp_leases";
/// Channel on which a lease's owner announces that it ended it (payload: the lease id):
/// `stop_proxy` waits on it.
pub const LEASE_ENDED_CHANNEL: &str = "mtcp_lease_ended";

/// `starting` → `active` for the worker that started the process (and took the lease, if it did).
/// `pid_start_time` is None when `pid` is not a process of the lease's own (a `proxy_ssh` listener
/// is the worker itself), so leftover cleanup never targets it.
pub async fn activate(
    conn: impl PgExecutor<'_>,
    lease_id: Uuid,
    agent_id: Uuid,
    host: &str,
    pid: i32,
    pid_start_time: impl Into<Option<i64>>,
    listen_addr: Option<&str>,
) -> Result<bool, DbError> {
    let r = sqlx::query(
        "UPDATE leases SET status = 'active', agent_id = $2, host = $3, pid = $4, pid_start_time = $5,
                           listen_addr = $6, last_heartbeat_at = now()
         WHERE lease_id = $1 AND status = 'starting' AND (agent_id IS NULL OR agent_id = $2)",
    )
    .bind(lease_id)
    .bind(agent_id)
    .bind(host)
    .bind(pid)
    .bind(pid_start_time.into())
    .bind(listen_addr)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Record the Teleport cluster a lease runs on (once: a lease never moves between clusters).
pub async fn set_cluster(conn: impl PgExecutor<'_>, lease_id: Uuid, cluster: &str) -> Result<bool, DbError> {
    let r = sqlx::query("UPDATE leases SET cluster = $2 WHERE lease_id = $1 AND cluster IS NULL")
        .bind(lease_id)
        .bind(cluster)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Ask the owner to stop a live lease (`stop_proxy`); announced at once. False if not live.
pub async fn request_stop(conn: impl PgExecutor<'_>, lease_id: Uuid, reason: &str) -> Result<bool, DbError> {
    let stopped: Option<Uuid> = sqlx::query_scalar(
        "WITH upd AS (
            UPDATE leases SET status = 'stopping', stop_reason = $2
            WHERE lease_id = $1 AND status IN ('starting', 'active') RETURNING lease_id)
         SELECT lease_id FROM upd, LATERAL (SELECT pg_notify($3, lease_id::text)) n",
    )
    .bind(lease_id)
    .bind(reason)
    .bind(LEASES_CHANNEL)
    .fetch_optional(conn)
    .await?;
    Ok(stopped.is_some())
}

/// How a lease ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseEnd {
    Stopped,
    Expired,
    Failed,
}

impl LeaseEnd {
    /// The status the lease ends in.
    pub fn status(self) -> LeaseStatus {
        match self {
            Self::Stopped => LeaseStatus::Stopped,
            Self::Expired => LeaseStatus::Expired,
            Self::Failed => LeaseStatus::Failed,
        }
    }
}

/// End a live lease (by its owner, once the process group is gone). Guarded: ends it once.
pub async fn end(
    conn: impl PgExecutor<'_>,
    lease_id: Uuid,
    how: LeaseEnd,
    reason: &str,
    exit_code: Option<i32>,
) -> Result<bool, DbError> {
    let ended: Option<Uuid> = sqlx::query_scalar(
        "WITH upd AS (
            UPDATE leases SET status = $2, stop_reason = coalesce(stop_reason, $3), exit_code = $4, ended_at = now()
            WHERE lease_id = $1 AND status IN ('starting', 'active', 'stopping')
            RETURNING lease_id)
         SELECT lease_id FROM upd, LATERAL (SELECT pg_notify($5, lease_id::text)) n",
    )
    .bind(lease_id)
    .bind(how.status().as_str())
    .bind(reason)
    .bind(exit_code)
    .bind(LEASE_ENDED_CHANNEL)
    .fetch_optional(conn)
    .await?;
    Ok(ended.is_some())
}

/// A lease as read back.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LeaseRow {
    pub lease_id: Uuid,
    pub op_id: Uuid,
    pub kind: String,
    pub actor: String,
    pub target: serde_json::Value,
    pub listen_addr: Option<String>,
    pub requested_listen_addr: Option<String>,
    pub agent_id: Option<Uuid>,
    pub host: Option<String>,
    pub pid: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    #[sqlx(try_from = "String")]
    pub status: LeaseStatus,
    pub stop_reason: Option<String>,
    pub last_heartbeat_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub exit_code: Option<i32>,
    pub edge_agent: Option<String>,
    /// The configured cluster it runs on (set when a worker takes it).
    pub cluster: Option<String>,
}

/// One lease.
pub async fn get(conn: impl PgExecutor<'_>, lease_id: Uuid) -> Result<Option<LeaseRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT lease_id, op_id, kind, actor, target, listen_addr, requested_listen_addr, agent_id, host, pid,
                created_at, expires_at, status, stop_reason, last_heartbeat_at, ended_at, exit_code, edge_agent,
                cluster
         FROM leases WHERE lease_id = $1",
    )
    .bind(lease_id)
    .fetch_optional(conn)
    .await?)
}

/// Leases of one actor (or all, with `None`), newest first; only live ones with `live_only`.
pub async fn list(
    conn: impl PgExecutor<'_>,
    actor: Option<&str>,
    live_only: bool,
    limit: i64,
) -> Result<Vec<LeaseRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT lease_id, op_id, kind, actor, target, listen_addr, requested_listen_addr, agent_id, host, pid,
                created_at, expires_at, status, stop_reason, last_heartbeat_at, ended_at, exit_code, edge_agent,
                cluster
         FROM leases
         WHERE ($1::text IS NULL OR actor = $1) AND (NOT $2 OR status IN ('starting', 'active', 'stopping'))
         ORDER BY created_at DESC LIMIT $3",
    )
    .bind(actor)
    .bind(live_only)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// Append log lines of a lease's processes (already redacted) and keep only the last `keep`.
/// Two statements, so a connection rather than any executor.
pub async fn append_logs(
    conn: &mut PgConnection,
    lease_id: Uuid,
    lines: &[(String, String)],
    keep: i64,
) -> Result<(), DbError> {
    let lines = &lines[lines.len().saturating_sub(usize::try_from(keep).unwrap_or(0))..];
    let (streams, texts): (Vec<String>, Vec<String>) =
        lines.iter().map(|(s, l)| (s.clone(), super::storable(l).into_owned())).unzip();
    // `seq` comes from one sequence shared by every writer of lease logs, so concurrent writers
    // never collide; the trim is a second statement because a statement cannot see its own inserts.
    sqlx::query(
        "INSERT INTO lease_logs (lease_id, stream, line)
         SELECT $1, t.stream, t.line FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS t(stream, line, n)
         ORDER BY t.n",
    )
    .bind(lease_id)
    .bind(&streams)
    .bind(&texts)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "DELETE FROM lease_logs WHERE lease_id = $1
           AND seq <= (SELECT seq FROM lease_logs WHERE lease_id = $1 ORDER BY seq DESC OFFSET $2 LIMIT 1)",
    )
    .bind(lease_id)
    .bind(keep)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The last `tail` log lines of a lease, oldest first: (at, stream, line).
pub async fn tail_logs(
    conn: impl PgExecutor<'_>,
    lease_id: Uuid,
    tail: i64,
) -> Result<Vec<(DateTime<Utc>, String, String)>, DbError> {
    Ok(sqlx::query_as(
        "SELECT at, stream, line FROM (
            SELECT seq, at, stream, line FROM lease_logs WHERE lease_id = $1 ORDER BY seq DESC LIMIT $2) t
         ORDER BY seq",
    )
    .bind(lease_id)
    .bind(tail)
    .fetch_all(conn)
    .await?)
}
