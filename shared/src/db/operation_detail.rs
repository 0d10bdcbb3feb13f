//! The reads behind an operation's detail (`get_operation`) besides its row: its event timeline
//! (`operation_events`) and the Teleport audit events recorded while it ran (`audit_events`).

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgExecutor;

use super::DbError;
use crate::domain::OpId;

/// One `operation_events` row: a progress step, a log line or a state change.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct EventRow {
    pub at: DateTime<Utc>,
    /// `progress`, `log` or `state` (a CHECK).
    pub kind: String,
    pub payload: Value,
}

/// The first `limit` events of an operation, oldest first (by `seq`, the order they were written).
pub async fn events(conn: impl PgExecutor<'_>, op_id: OpId, limit: i64) -> Result<Vec<EventRow>, DbError> {
    Ok(sqlx::query_as("SELECT at, kind, payload FROM operation_events WHERE op_id = $1 ORDER BY seq LIMIT $2")
        .bind(op_id.0)
        .bind(limit)
        .fetch_all(conn)
        .await?)
}

/// The columns of an audit event a reference shows (`raw`, the whole event, is left out).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AuditRefRow {
    pub uid: String,
    pub time: DateTime<Utc>,
    pub event: String,
    pub code: Option<String>,
    pub user: Option<String>,
    pub success: Option<bool>,
}

/// The first `limit` audit events with `from <= time <= to` (of the cluster whose events carry
/// `cluster` as their `cluster_name`, when given), oldest first (the time index serves it).
pub async fn audit_between(
    conn: impl PgExecutor<'_>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    cluster: Option<&str>,
    limit: i64,
) -> Result<Vec<AuditRefRow>, DbError> {
    Ok(sqlx::query_as(
        r#"SELECT uid, time, event, code, "user", success FROM audit_events
           WHERE time >= $1 AND time <= $2 AND ($4::text IS NULL OR cluster = $4) ORDER BY time, uid LIMIT $3"#,
    )
    .bind(from)
    .bind(to)
    .bind(limit)
    .bind(cluster)
    .fetch_all(conn)
    .await?)
}
