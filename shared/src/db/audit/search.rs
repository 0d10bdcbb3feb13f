//! `search_audit`'s aggregates: GROUP BY queries over the indexed columns with LIMITs, and an hourly
//! histogram from `generate_series`. Nothing loads the events themselves.

use chrono::{DateTime, Duration, Utc};
use sqlx::{PgConnection, PgPool};

use super::{SOURCE_IP_SQL, count};
use crate::analysis::audit::{AuditSummary, AuditWindow, EventCount, HourCount, SourceCount, UserCount};
use crate::db::DbError;

/// Length of the top-user, top-source and failures-by-user lists.
const TOP: i64 = 10;
/// Most event types listed.
const EVENT_TYPES: i64 = 200;
/// Most hour buckets in the histogram (over a year).
const MAX_HOURS: i64 = 24 * 400;

/// Aggregate the events of `[since, until)`, in one read-only snapshot.
pub async fn search(pool: &PgPool, since: DateTime<Utc>, until: DateTime<Utc>) -> Result<AuditSummary, DbError> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
    let (total, first_event, last_event): (i64, Option<DateTime<Utc>>, Option<DateTime<Utc>>) =
        sqlx::query_as("SELECT count(*), min(time), max(time) FROM audit_events WHERE time >= $1 AND time < $2")
            .bind(since)
            .bind(until)
            .fetch_one(&mut *tx)
            .await?;
    let by_event = pairs(&mut tx, "event", "", since, until, EVENT_TYPES).await?;
    let failures_by_event = pairs(&mut tx, "event", "AND success = false", since, until, EVENT_TYPES).await?;
    let failures_by_user = pairs(&mut tx, r#""user""#, "AND success = false", since, until, TOP).await?;
    let top_users = pairs(&mut tx, r#""user""#, "", since, until, TOP).await?;
    let top_sources = pairs(&mut tx, SOURCE_IP_SQL, "", since, until, TOP).await?;
    // A window longer than MAX_HOURS gets the histogram of its last MAX_HOURS hours.
    let window = AuditWindow::new(since, until);
    let mut notes = Vec::new();
    let skip = i64::from(window.hours) - MAX_HOURS;
    let first_hour = window.hour_starts().next().map(|h| h + Duration::hours(skip.max(0)));
    if skip > 0 {
        notes.push(format!("the hourly histogram covers the last {MAX_HOURS} hours of the window only"));
    }
    let hourly = sqlx::query(
        "WITH c AS (SELECT date_trunc('hour', time, 'UTC') AS hour, count(*) AS n FROM audit_events
                    WHERE time >= $3 AND time < $2 GROUP BY 1)
         SELECT h.hour, coalesce(c.n, 0) AS n
         FROM generate_series($1::timestamptz, $2::timestamptz - interval '1 microsecond', interval '1 hour') AS h(hour)
         LEFT JOIN c USING (hour) ORDER BY h.hour",
    )
    .bind(first_hour)
    .bind(until)
    .bind(since)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|r| Ok(HourCount { hour: sqlx::Row::try_get(r, "hour")?, count: count(r, "n")? }))
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    tx.commit().await?;
    Ok(AuditSummary {
        window,
        total: u64::try_from(total).unwrap_or(0),
        first_event,
        last_event,
        by_event: by_event.into_iter().map(|(event, count)| EventCount { event, count }).collect(),
        failures_by_event: failures_by_event.into_iter().map(|(event, count)| EventCount { event, count }).collect(),
        failures_by_user: failures_by_user.into_iter().map(|(user, count)| UserCount { user, count }).collect(),
        top_users: top_users.into_iter().map(|(user, count)| UserCount { user, count }).collect(),
        top_sources: top_sources.into_iter().map(|(remote_addr, count)| SourceCount { remote_addr, count }).collect(),
        hourly,
        notes,
    })
}

/// `key, count` of the window's events (with an extra condition), most frequent first, nulls skipped.
/// `key` and `filter` are constants of this module, never caller input.
async fn pairs(
    conn: &mut PgConnection,
    key: &'static str,
    filter: &'static str,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<(String, u64)>, DbError> {
    let sql = format!(
        "SELECT k, count(*) AS n FROM (SELECT {key} AS k FROM audit_events WHERE time >= $1 AND time < $2 {filter}) e
         WHERE k IS NOT NULL AND k <> '' GROUP BY k ORDER BY n DESC, k LIMIT $3"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(since).bind(until).bind(limit).fetch_all(conn).await?;
    rows.iter()
        .map(|r| Ok((sqlx::Row::try_get(r, "k")?, count(r, "n")?)))
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(DbError::from)
}
