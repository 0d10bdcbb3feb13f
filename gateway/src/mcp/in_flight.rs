//! The in-flight cap at enqueue: a call that would give its actor more worker calls queued or
//! running than its role allows is refused (and recorded as a denial) instead of queued, so one
//! low-privilege caller's flood of slow calls cannot hold every worker while others wait.

use mtcp_shared::db::{self, in_flight::Admission, operations::NewOperation};
use sqlx::PgConnection;

/// Take the actor's in-flight slot for `op` inside the transaction that will insert it.
/// `Ok(Some(reason))`: the cap is reached; the caller rolls back and records the refusal.
pub async fn admit(conn: &mut PgConnection, op: &NewOperation<'_>) -> Result<Option<String>, db::DbError> {
    let Some(cap) = op.decision.constraints.as_ref().and_then(|c| c.max_in_flight_calls) else {
        return Ok(None);
    };
    match db::in_flight::admit(conn, &op.actor.id, cap).await? {
        Admission::Admitted => Ok(None),
        Admission::CapReached { in_flight } => Ok(Some(refusal(op, cap, in_flight))),
    }
}

/// Why a call over its actor's in-flight cap was refused (counted).
pub fn refusal(op: &NewOperation<'_>, cap: u32, in_flight: i64) -> String {
    metrics::counter!("mtcp_in_flight_refused_total", "role" => super::call::role_label(&op.actor.role)).increment(1);
    format!(
        "actor {:?} has {in_flight} calls in flight (queued or running), the limit for role '{}' is {cap}; \
         retry when one finishes",
        op.actor.id, op.actor.role
    )
}
