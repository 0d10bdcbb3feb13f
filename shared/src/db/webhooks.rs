//! The webhook outbox: a message is written in the transaction of the change it announces, then
//! delivered at least once, with backoff, by whichever gateway claims it; a receiver that is down
//! never holds up a call.

use std::time::Duration;

use serde_json::Value;
use sqlx::PgExecutor;

use super::{DbError, storable, storable_json};
use crate::domain::OpId;

/// Channel on which a new message is announced to the deliverers (payload: its id).
pub const WEBHOOKS_CHANNEL: &str = "mtcp_webhooks";

/// Queue `payload` (already redacted) for delivery, announced at commit.
pub async fn enqueue(conn: impl PgExecutor<'_>, op_id: OpId, event: &str, payload: &Value) -> Result<(), DbError> {
    sqlx::query(
        "WITH m AS (INSERT INTO webhook_deliveries (op_id, event, payload) VALUES ($1, $2, $3) RETURNING id)
         SELECT pg_notify($4, id::text) FROM m",
    )
    .bind(op_id.0)
    .bind(event)
    .bind(storable_json(payload))
    .bind(WEBHOOKS_CHANNEL)
    .execute(conn)
    .await?;
    Ok(())
}

/// A message claimed for one delivery attempt.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Delivery {
    pub id: i64,
    pub event: String,
    pub payload: Value,
    /// Attempts so far, this one included.
    pub attempts: i32,
}

/// Claim the message due first, for one attempt: its `attempts` is counted and it is hidden from
/// other deliverers for `visibility` (longer than an attempt may take). Nothing stays locked while
/// it is sent: a deliverer that dies mid-attempt leaves the message due again once `visibility`
/// has passed. `SKIP LOCKED`: deliverers of several replicas never claim the same message at once.
pub async fn claim(conn: impl PgExecutor<'_>, visibility: Duration) -> Result<Option<Delivery>, DbError> {
    Ok(sqlx::query_as(
        "UPDATE webhook_deliveries
            SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => $1)
          WHERE id = (SELECT id FROM webhook_deliveries
                       WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= now()
                       ORDER BY next_attempt_at, id
                       LIMIT 1
                       FOR UPDATE SKIP LOCKED)
          RETURNING id, event, payload, attempts",
    )
    .bind(visibility.as_secs_f64())
    .fetch_optional(conn)
    .await?)
}

/// The receiver took the message.
pub async fn mark_delivered(conn: impl PgExecutor<'_>, id: i64) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE webhook_deliveries SET delivered_at = now(), last_error = NULL
          WHERE id = $1 AND delivered_at IS NULL AND failed_at IS NULL",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Attempt `attempt` failed with `error` (short, and free of the URL): try again after `after`.
/// A message claimed again meanwhile (this attempt outlived its visibility) is left to that claim.
pub async fn reschedule(
    conn: impl PgExecutor<'_>,
    id: i64,
    attempt: i32,
    after: Duration,
    error: &str,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE webhook_deliveries SET next_attempt_at = now() + make_interval(secs => $3), last_error = $4
          WHERE id = $1 AND attempts = $2 AND delivered_at IS NULL AND failed_at IS NULL",
    )
    .bind(id)
    .bind(attempt)
    .bind(after.as_secs_f64())
    .bind(short_error(error))
    .execute(conn)
    .await?;
    Ok(())
}

/// Attempt `attempt` was the last allowed and failed with `error`: the message is given up.
pub async fn mark_failed(conn: impl PgExecutor<'_>, id: i64, attempt: i32, error: &str) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE webhook_deliveries SET failed_at = now(), last_error = $3
          WHERE id = $1 AND attempts = $2 AND delivered_at IS NULL AND failed_at IS NULL",
    )
    .bind(id)
    .bind(attempt)
    .bind(short_error(error))
    .execute(conn)
    .await?;
    Ok(())
}

/// How long until the next pending message is due (zero if one is due now); `None` when none is
/// pending.
pub async fn next_due_in(conn: impl PgExecutor<'_>) -> Result<Option<Duration>, DbError> {
    let secs: Option<f64> = sqlx::query_scalar(
        "SELECT greatest(0, extract(epoch FROM min(next_attempt_at) - now()))::float8
           FROM webhook_deliveries WHERE delivered_at IS NULL AND failed_at IS NULL",
    )
    .fetch_one(conn)
    .await?;
    Ok(secs.map(Duration::from_secs_f64))
}

/// At most this many characters of an error are kept.
const ERROR_CHARS: usize = 200;

fn short_error(error: &str) -> String {
    storable(error).chars().take(ERROR_CHARS).collect()
}
