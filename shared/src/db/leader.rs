//! Leader election for the reaper: a session-level advisory lock held on one dedicated connection.
//! If that connection dies, Postgres releases the lock and a standby takes over.

use sqlx::PgConnection;

use super::DbError;

/// The advisory lock key of the reaper ("mtcp-reaper" folded into 64 bits).
pub const REAPER_LOCK_KEY: i64 = 0x6d74_6370_7265_6170;

/// Try to become leader on this connection.
pub async fn try_acquire(conn: &mut PgConnection, key: i64) -> Result<bool, DbError> {
    Ok(sqlx::query_scalar("SELECT pg_try_advisory_lock($1)").bind(key).fetch_one(conn).await?)
}

/// Whether this connection still holds the lock (false, or an error, means leadership is lost).
pub async fn still_held(conn: &mut PgConnection, key: i64) -> Result<bool, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
                        AND granted AND ((classid::bigint << 32) | objid::bigint) = $1)",
    )
    .bind(key)
    .fetch_one(conn)
    .await?)
}

/// Give leadership up (clean shutdown).
pub async fn release(conn: &mut PgConnection, key: i64) -> Result<(), DbError> {
    sqlx::query("SELECT pg_advisory_unlock($1)").bind(key).execute(conn).await?;
    Ok(())
}
