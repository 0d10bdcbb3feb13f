//! The `audit_events` table: idempotent batch insert (by Teleport's `uid`), bounded retention
//! deletes, and the aggregate and candidate queries behind `search_audit` and
//! `detect_audit_anomalies`, returned as rows (the audit detectors read them and judge).

mod anomalies;
mod rows;
mod search;

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgExecutor, Row};

use super::{DbError, storable, storable_json};

pub use anomalies::{anomaly_input, event_uids};
pub use rows::{AnomalyInput, AuditAggregates, AuditEventRow, EventHourCount, LoginBurst, LoginSubject};
pub use search::aggregates;

/// The source IP of `remote_addr` (`ip:port`, `[v6]:port` or bare), as the detectors' `source_ip` reads it.
pub(crate) const SOURCE_IP_SQL: &str = r"CASE
    WHEN remote_addr LIKE '[%' THEN coalesce(substring(remote_addr FROM '^\[([^]]+)\]'), remote_addr)
    WHEN remote_addr ~ '^[^:]+:[0-9]+$' THEN split_part(remote_addr, ':', 1)
    ELSE remote_addr END";

/// An event to store. `uid` must be 1–128 characters (a CHECK); the caller skips events without one.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditEvent {
    pub uid: String,
    pub time: DateTime<Utc>,
    pub event: String,
    pub code: Option<String>,
    pub user: Option<String>,
    pub success: Option<bool>,
    /// `addr.remote` as sent (`ip:port`).
    pub remote_addr: Option<String>,
    pub cluster: Option<String>,
    /// The whole event, already redacted.
    pub raw: serde_json::Value,
}

/// Insert a batch in one statement; events whose `uid` is already stored (or repeated in the batch)
/// are ignored, so re-delivery is harmless. Returns the number of rows newly inserted.
pub async fn insert_batch(conn: impl PgExecutor<'_>, events: &[NewAuditEvent]) -> Result<u64, DbError> {
    if events.is_empty() {
        return Ok(0);
    }
    let text = |f: fn(&NewAuditEvent) -> Option<&str>| -> Vec<Option<String>> {
        events.iter().map(|e| f(e).map(|s| storable(s).into_owned())).collect()
    };
    let uids = text(|e| Some(&e.uid));
    let events_col = text(|e| Some(&e.event));
    let codes = text(|e| e.code.as_deref());
    let users = text(|e| e.user.as_deref());
    let addrs = text(|e| e.remote_addr.as_deref());
    let clusters = text(|e| e.cluster.as_deref());
    let times: Vec<DateTime<Utc>> = events.iter().map(|e| e.time).collect();
    let success: Vec<Option<bool>> = events.iter().map(|e| e.success).collect();
    let raws: Vec<serde_json::Value> = events.iter().map(|e| storable_json(&e.raw)).collect();
    let done = sqlx::query(
        r#"INSERT INTO audit_events (uid, time, event, code, "user", success, remote_addr, cluster, raw)
           SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::bool[],
                                $7::text[], $8::text[], $9::jsonb[])
           ON CONFLICT (uid) DO NOTHING"#,
    )
    .bind(uids)
    .bind(times)
    .bind(events_col)
    .bind(codes)
    .bind(users)
    .bind(success)
    .bind(addrs)
    .bind(clusters)
    .bind(raws)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Delete at most `limit` events older than `cutoff` (oldest first); the reaper repeats until it
/// returns less than `limit`, so no statement holds locks on a large range.
pub async fn delete_older_than(conn: impl PgExecutor<'_>, cutoff: DateTime<Utc>, limit: i64) -> Result<u64, DbError> {
    let done = sqlx::query(
        "DELETE FROM audit_events WHERE uid IN (
             SELECT uid FROM audit_events WHERE time < $1 ORDER BY time LIMIT $2 FOR UPDATE SKIP LOCKED)",
    )
    .bind(cutoff)
    .bind(limit.max(0))
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Map a row selected as `uid, time, event, code, "user", remote_addr, raw`.
pub(crate) fn event_row(row: &PgRow) -> Result<AuditEventRow, sqlx::Error> {
    Ok(AuditEventRow {
        uid: row.try_get("uid")?,
        time: row.try_get("time")?,
        event: row.try_get("event")?,
        code: row.try_get("code")?,
        user: row.try_get("user")?,
        remote_addr: row.try_get("remote_addr")?,
        raw: row.try_get("raw")?,
    })
}

/// A count from SQL (`bigint`) as `u64`.
pub(crate) fn count(row: &PgRow, col: &str) -> Result<u64, sqlx::Error> {
    Ok(u64::try_from(row.try_get::<i64, _>(col)?).unwrap_or(0))
}

/// Whether no audit event is stored at all.
pub async fn is_empty(conn: impl PgExecutor<'_>) -> Result<bool, DbError> {
    Ok(sqlx::query_scalar("SELECT NOT EXISTS (SELECT 1 FROM audit_events)").fetch_one(conn).await?)
}

/// Open a read-only transaction that sees one snapshot (REPEATABLE READ) for a tool's several queries.
pub async fn read_snapshot(pool: &sqlx::PgPool) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, DbError> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
    Ok(tx)
}
