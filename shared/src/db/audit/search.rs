//! `search_audit`'s aggregates: GROUP BY queries over the indexed columns with LIMITs, and an hourly
//! histogram from `generate_series`. Nothing loads the events themselves.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::{AuditAggregates, SOURCE_IP_SQL, count};
use crate::db::DbError;

/// Length of the top-user, top-source and failures-by-user lists.
const TOP: i64 = 10;
/// Most event types listed.
const EVENT_TYPES: i64 = 200;

/// Aggregate the events of `[since, until)` of the cluster named `cluster` in Teleport (its
/// events' `cluster_name`; None: every cluster's); the hourly histogram runs from `first_hour` (an
/// hour start; None for no hours) to `until`. Run it in a [`super::read_snapshot`].
pub async fn aggregates(
    conn: &mut PgConnection,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    first_hour: Option<DateTime<Utc>>,
    cluster: Option<&str>,
) -> Result<AuditAggregates, DbError> {
    let (total, first_event, last_event): (i64, Option<DateTime<Utc>>, Option<DateTime<Utc>>) = sqlx::query_as(
        "SELECT count(*), min(time), max(time) FROM audit_events
         WHERE time >= $1 AND time < $2 AND ($3::text IS NULL OR cluster = $3)",
    )
    .bind(since)
    .bind(until)
    .bind(cluster)
    .fetch_one(&mut *conn)
    .await?;
    let window = Window { since, until, cluster };
    let by_event = pairs(conn, "event", "", window, EVENT_TYPES).await?;
    let failures_by_event = pairs(conn, "event", "AND success = false", window, EVENT_TYPES).await?;
    let failures_by_user = pairs(conn, r#""user""#, "AND success = false", window, TOP).await?;
    let top_users = pairs(conn, r#""user""#, "", window, TOP).await?;
    let top_sources = pairs(conn, SOURCE_IP_SQL, "", window, TOP).await?;
    let hourly = sqlx::query(
        "WITH c AS (SELECT date_trunc('hour', time, 'UTC') AS hour, count(*) AS n FROM audit_events
                    WHERE time >= $3 AND time < $2 AND ($4::text IS NULL OR cluster = $4) GROUP BY 1)
         SELECT h.hour, coalesce(c.n, 0) AS n
         FROM generate_series($1::timestamptz, $2::timestamptz - interval '1 microsecond', interval '1 hour') AS h(hour)
         LEFT JOIN c USING (hour) ORDER BY h.hour",
    )
    .bind(first_hour)
    .bind(until)
    .bind(since)
    .bind(cluster)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| Ok((sqlx::Row::try_get(r, "hour")?, count(r, "n")?)))
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(AuditAggregates {
        total: u64::try_from(total).unwrap_or(0),
        first_event,
        last_event,
        by_event,
        failures_by_event,
        failures_by_user,
        top_users,
        top_sources,
        hourly,
    })
}

/// The events a search counts: `[since, until)`, of one cluster (its Teleport name) or of all.
#[derive(Clone, Copy)]
struct Window<'a> {
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    cluster: Option<&'a str>,
}

/// `key, count` of the window's events (with an extra condition), most frequent first, nulls skipped.
/// `key` and `filter` are constants of this module, never caller input.
async fn pairs(
    conn: &mut PgConnection,
    key: &'static str,
    filter: &'static str,
    w: Window<'_>,
    limit: i64,
) -> Result<Vec<(String, u64)>, DbError> {
    let sql = format!(
        "SELECT k, count(*) AS n FROM (SELECT {key} AS k FROM audit_events
             WHERE time >= $1 AND time < $2 AND ($4::text IS NULL OR cluster = $4) {filter}) e
         WHERE k IS NOT NULL AND k <> '' GROUP BY k ORDER BY n DESC, k LIMIT $3"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(w.since)
        .bind(w.until)
        .bind(limit)
        .bind(w.cluster)
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|r| Ok((sqlx::Row::try_get(r, "k")?, count(r, "n")?)))
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(DbError::from)
}
