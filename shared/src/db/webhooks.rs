//! The webhook outbox: a message is written in the transaction of the change it announces, then
//! delivered at least once, with backoff, by whichever gateway claims it; a receiver that is down
//! never holds up a call.

use serde_json::Value;
use sqlx::PgExecutor;

use super::{DbError, storable_json};
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
