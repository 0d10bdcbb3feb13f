//! The per-actor in-flight cap: how many worker calls one actor may have queued or running at
//! once, so one caller's flood of slow calls cannot fill the workers and starve everyone else.
//! Counted where it cannot race, like the lease cap: a transaction-scoped advisory lock on the
//! actor, then the count, then (by the caller, in the same transaction) the insert.

use sqlx::PgConnection;

use super::DbError;

/// Whether one more call may be enqueued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Admitted,
    /// The actor already has `in_flight` calls queued or running, at or over the cap.
    CapReached {
        in_flight: i64,
    },
}

/// Admit one more call of `actor` if it has fewer than `cap` queued or running. Call inside the
/// transaction that records the operation, before inserting it: the lock serialises the actor's
/// concurrent enqueues until that transaction ends, so the cap holds under any concurrency and
/// across gateway replicas.
pub async fn admit(conn: &mut PgConnection, actor: &str, cap: u32) -> Result<Admission, DbError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('mtcp-in-flight:' || $1, 0))")
        .bind(actor)
        .execute(&mut *conn)
        .await?;
    let in_flight = count(&mut *conn, actor).await?;
    Ok(if in_flight >= i64::from(cap) { Admission::CapReached { in_flight } } else { Admission::Admitted })
}

/// The actor's operations that are queued or running.
pub async fn count(conn: &mut PgConnection, actor: &str) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM operations WHERE actor = $1 AND status IN ('queued', 'running')")
        .bind(actor)
        .fetch_one(conn)
        .await?)
}
