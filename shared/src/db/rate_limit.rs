//! Per-actor rate limiting in Postgres, so the limit holds across gateway replicas. GCRA: each
//! call moves the actor's theoretical arrival time (TAT) forward by `per / requests`; a call is
//! refused when the TAT would run more than `per` ahead of now. One row lock per call, no race.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use super::DbError;
use crate::policy::RateLimit;

/// Take one call from `actor`'s allowance. `Err(retry_after)` when over the limit.
pub async fn take(
    conn: impl PgExecutor<'_> + Copy,
    actor: &str,
    limit: RateLimit,
) -> Result<Result<(), Duration>, DbError> {
    let per = limit.per_seconds as f64;
    let emission = per / f64::from(limit.requests.max(1));
    let admitted: Option<DateTime<Utc>> = sqlx::query_scalar(
        "INSERT INTO rate_limits AS r (actor, tat) VALUES ($1, now() + make_interval(secs => $2))
         ON CONFLICT (actor) DO UPDATE SET tat = greatest(r.tat, now()) + make_interval(secs => $2)
         WHERE greatest(r.tat, now()) + make_interval(secs => $2) <= now() + make_interval(secs => $3)
         RETURNING tat",
    )
    .bind(actor)
    .bind(emission)
    .bind(per)
    .fetch_optional(conn)
    .await?;
    if admitted.is_some() {
        return Ok(Ok(()));
    }
    // Refused: the next call fits once the TAT has come within `per` of now again.
    let wait: f64 = sqlx::query_scalar(
        "SELECT greatest(extract(epoch FROM (tat + make_interval(secs => $2) - make_interval(secs => $3) - now())), 0)::float8
         FROM rate_limits WHERE actor = $1",
    )
    .bind(actor)
    .bind(emission)
    .bind(per)
    .fetch_optional(conn)
    .await?
    .unwrap_or(0.0);
    Ok(Err(Duration::from_secs_f64(wait.max(0.001))))
}

/// Forget actors whose theoretical arrival time is before `cutoff` (retention). A row whose TAT is
/// in the past allows exactly what no row allows (a full burst), so deleting it changes no
/// decision; without this the table held one row per actor that ever called, for ever.
pub async fn prune(conn: impl PgExecutor<'_>, cutoff: DateTime<Utc>) -> Result<u64, DbError> {
    let r = sqlx::query("DELETE FROM rate_limits WHERE tat < $1").bind(cutoff).execute(conn).await?;
    Ok(r.rows_affected())
}
