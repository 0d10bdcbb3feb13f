//! Recovery of the work of worker incarnations that went offline, on `operations` alone: running
//! mutations end `outcome_unknown` (at most once), running reads go back to the queue while they
//! have attempts left (at least once), and end when they have none.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::queue::QUEUE_CHANNEL;
use super::{DbError, OPS_CHANNEL};

/// Operations `running` on an offline worker that may not run again (mutations, reads out of
/// attempts): ended `failed`, announced, with a `state` event. Returns their ids.
pub async fn fail_lost(conn: &mut PgConnection, now: DateTime<Utc>, limit: i64) -> Result<Vec<Uuid>, DbError> {
    Ok(sqlx::query_scalar(include_str!("sql/fail_lost_mutations.sql"))
        .bind(now)
        .bind(limit)
        .bind(OPS_CHANNEL)
        .fetch_all(conn)
        .await?)
}

/// Reads `running` on an offline worker with attempts left: back to `queued`, their lane woken,
/// with a `state` event. Returns the operation ids.
pub async fn requeue_lost(conn: &mut PgConnection, now: DateTime<Utc>, limit: i64) -> Result<Vec<Uuid>, DbError> {
    Ok(sqlx::query_scalar(include_str!("sql/requeue_lost_jobs.sql"))
        .bind(now)
        .bind(limit)
        .bind(QUEUE_CHANNEL)
        .fetch_all(conn)
        .await?)
}
