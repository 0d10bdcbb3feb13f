//! Per-actor rate limiting in Postgres, so the limit holds across gateway replicas. GCRA: each
//! call moves the actor's theoretical arrival time (TAT) forward by `per / requests`; a call is
//! refused when the TAT would run more than `per` ahead of now. One row lock per call, no race.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use super::DbError;
use crate::policy::RateLimit;

/// Take one call from `actor`'s allowance (`mtcp_take_allowance`, which `queue::admit` also calls
/// in its statement). `Err(retry_after)` when over the limit.
pub async fn take(conn: impl PgExecutor<'_>, actor: &str, limit: RateLimit) -> Result<Result<(), Duration>, DbError> {
    let (emission, per) = gcra(limit);
    let wait: Option<f64> = sqlx::query_scalar("SELECT mtcp_take_allowance($1, $2, $3)")
        .bind(actor)
        .bind(emission)
        .bind(per)
        .fetch_one(conn)
        .await?;
    Ok(match wait {
        None => Ok(()),
        Some(wait) => Err(Duration::from_secs_f64(wait.max(0.001))),
    })
}

/// A limit as the GCRA takes it: (seconds each call moves the actor's TAT, the burst window).
pub(super) fn gcra(limit: RateLimit) -> (f64, f64) {
    let per = limit.per_seconds as f64;
    (per / f64::from(limit.requests.max(1)), per)
}

/// Forget actors whose theoretical arrival time is before `cutoff` (retention). A row whose TAT is
/// in the past allows exactly what no row allows (a full burst), so deleting it changes no
/// decision; without this the table held one row per actor that ever called, for ever.
pub async fn prune(conn: impl PgExecutor<'_>, cutoff: DateTime<Utc>) -> Result<u64, DbError> {
    let r = sqlx::query("DELETE FROM rate_limits WHERE tat < $1").bind(cutoff).execute(conn).await?;
    Ok(r.rows_affected())
}
