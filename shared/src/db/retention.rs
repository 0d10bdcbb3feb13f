//! Retention: bounded deletes of ended leases (their logs cascade) and finished operations (their
//! events cascade). Each deletes at most `limit` rows per call, oldest first, skipping rows
//! another session holds.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use super::DbError;

/// Leases ended before `cutoff`, with their log lines.
pub async fn delete_ended_leases(conn: impl PgExecutor<'_>, cutoff: DateTime<Utc>, limit: i64) -> Result<u64, DbError> {
    let r = sqlx::query(
        "DELETE FROM leases WHERE lease_id IN (
            SELECT lease_id FROM leases WHERE ended_at < $1 ORDER BY ended_at LIMIT $2 FOR UPDATE SKIP LOCKED)",
    )
    .bind(cutoff)
    .bind(limit)
    .execute(conn)
    .await?;
    Ok(r.rows_affected())
}

/// Operations created and ended before `cutoff`, with their events. An operation a lease still
/// references (its start) stays until that lease is deleted.
pub async fn delete_ended_operations(
    conn: impl PgExecutor<'_>,
    cutoff: DateTime<Utc>,
    limit: i64,
) -> Result<u64, DbError> {
    // `created_at` carries the index; an operation ends after it was created, so the scan covers
    // every candidate.
    let r = sqlx::query(
        "DELETE FROM operations WHERE op_id IN (
            SELECT o.op_id FROM operations o
            WHERE o.created_at < $1 AND o.ended_at < $1
              AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.op_id = o.op_id)
            ORDER BY o.created_at LIMIT $2 FOR UPDATE SKIP LOCKED)",
    )
    .bind(cutoff)
    .bind(limit)
    .execute(conn)
    .await?;
    Ok(r.rows_affected())
}
