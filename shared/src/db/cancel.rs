//! Cancellation requests: a caller's closed stream, `notifications/cancelled` or `tasks/cancel`
//! marks its operation; a queued one ends `cancelled` at once (with a lease it would have started),
//! a running one is announced to the worker running it, which kills the process group.

use sqlx::PgExecutor;

use super::{DbError, OPS_CHANNEL};
use crate::domain::OpId;

/// Channel on which running operations asked to stop are announced (payload: the op id).
pub const CANCEL_CHANNEL: &str = "mtcp_cancel";

/// What a cancellation request found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancelled {
    /// It had not started: ended `cancelled`, nothing ran.
    BeforeStart,
    /// It is running: its worker has been told.
    Requested,
    /// Already ended (or unknown): nothing to do.
    NotActive,
}

/// Ask for an operation to be cancelled. One statement: the queued case ends the operation (and
/// the unowned lease of a start that never ran), the running case flags it and tells its worker.
pub async fn request(conn: impl PgExecutor<'_>, op_id: OpId) -> Result<Cancelled, DbError> {
    let found: Option<String> = sqlx::query_scalar(
        "WITH queued AS (
            UPDATE operations SET status = 'cancelled', cancel_requested = true, ended_at = now(), payload = NULL,
                                  error = 'cancelled by the caller before it started; nothing ran'
            WHERE op_id = $1 AND status IN ('queued', 'awaiting_approval') RETURNING op_id),
          lease AS (
            UPDATE leases SET status = 'stopped', stop_reason = 'cancelled', ended_at = now()
            WHERE op_id IN (SELECT op_id FROM queued) AND status IN ('starting', 'stopping') AND agent_id IS NULL
            RETURNING lease_id),
          running AS (
            UPDATE operations SET cancel_requested = true
            WHERE op_id = $1 AND status = 'running' AND NOT cancel_requested RETURNING op_id)
         SELECT 'queued' FROM queued, LATERAL (SELECT pg_notify($2, $1::text), (SELECT count(*) FROM lease)) n
         UNION ALL
         SELECT 'running' FROM running, LATERAL (SELECT pg_notify($3, $1::text)) n",
    )
    .bind(op_id.0)
    .bind(OPS_CHANNEL)
    .bind(CANCEL_CHANNEL)
    .fetch_optional(conn)
    .await?;
    Ok(match found.as_deref() {
        Some("queued") => Cancelled::BeforeStart,
        Some(_) => Cancelled::Requested,
        None => Cancelled::NotActive,
    })
}

/// The active operation an actor started with a JSON-RPC request id (ids are unique per client
/// only, so the actor is part of the key; the newest wins if a client reused one).
pub async fn active_by_request(
    conn: impl PgExecutor<'_>,
    actor: &str,
    request_id: &str,
) -> Result<Option<OpId>, DbError> {
    let id: Option<uuid::Uuid> = sqlx::query_scalar(
        "SELECT op_id FROM operations WHERE actor = $1 AND request_id = $2 AND status IN ('awaiting_approval', 'queued', 'running')
         ORDER BY created_at DESC LIMIT 1",
    )
    .bind(actor)
    .bind(request_id)
    .fetch_optional(conn)
    .await?;
    Ok(id.map(OpId))
}

/// Whether an operation was asked to stop (a worker checks before and while it runs).
pub async fn is_requested(conn: impl PgExecutor<'_>, op_id: OpId) -> Result<bool, DbError> {
    Ok(sqlx::query_scalar("SELECT cancel_requested FROM operations WHERE op_id = $1")
        .bind(op_id.0)
        .fetch_optional(conn)
        .await?
        .unwrap_or(false))
}
