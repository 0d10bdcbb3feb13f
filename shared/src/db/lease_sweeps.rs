//! The reaper's statements over leases: expiry, owners gone offline, and leases no worker ever
//! took. Each is one bounded set-based statement (`FOR UPDATE SKIP LOCKED`, so any number of
//! reapers move a lease once) that also writes the `system` line telling the user why.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::leases::LEASES_CHANNEL;
use super::{DbError, OPS_CHANNEL, before};

/// Leases past their expiry → `stopping` (reason `expired`), announced to their owners.
pub async fn expire_due(conn: &mut PgConnection, now: DateTime<Utc>, limit: i64) -> Result<Vec<Uuid>, DbError> {
    Ok(sqlx::query_scalar(include_str!("sql/expire_leases.sql"))
        .bind(now)
        .bind(limit)
        .bind(LEASES_CHANNEL)
        .fetch_all(conn)
        .await?)
}

/// Live leases (starting included) whose owner agent is offline → `failed` (`owner_lost`).
pub async fn fail_orphaned(conn: &mut PgConnection, now: DateTime<Utc>, limit: i64) -> Result<Vec<Uuid>, DbError> {
    Ok(sqlx::query_scalar(include_str!("sql/fail_orphaned_leases.sql")).bind(now).bind(limit).fetch_all(conn).await?)
}

/// Leases still `starting` without an owner after `deadline` → `failed` (`never_started`); their
/// start operation, if still queued, fails with them.
pub async fn fail_never_started(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    deadline: Duration,
    limit: i64,
) -> Result<Vec<Uuid>, DbError> {
    Ok(sqlx::query_scalar(include_str!("sql/fail_never_started_leases.sql"))
        .bind(now)
        .bind(before(now, deadline))
        .bind(limit)
        .bind(humantime::format_duration(deadline).to_string())
        .bind(OPS_CHANNEL)
        .fetch_all(conn)
        .await?)
}

/// Leases `stopping` without an owner → ended (`stopped`, or `expired` if that was the reason):
/// at once if their start operation is terminal, after `deadline` otherwise. Their start
/// operation, if still queued, is cancelled.
pub async fn end_unstarted(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    deadline: Duration,
    limit: i64,
) -> Result<Vec<Uuid>, DbError> {
    Ok(sqlx::query_scalar(include_str!("sql/stop_unstarted_leases.sql"))
        .bind(now)
        .bind(before(now, deadline))
        .bind(limit)
        .bind(OPS_CHANNEL)
        .fetch_all(conn)
        .await?)
}
