//! The `operations` table: insert (queued with its job, or already ended), guarded state transitions
//! (each a single UPDATE … WHERE status = …), and reads.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgExecutor;
use uuid::Uuid;

use super::{DbError, OPS_CHANNEL, storable, storable_json};
use crate::domain::{Actor, Capability, OpId, OperationStatus};
use crate::policy::Decision;

/// A new operation row.
#[derive(Debug, Clone)]
pub struct NewOperation<'a> {
    pub op_id: OpId,
    pub request_id: Option<String>,
    pub actor: &'a Actor,
    pub capability: Capability,
    pub tool: &'a str,
    /// Validated and redacted arguments.
    pub inputs: Value,
    pub reason: Option<&'a str>,
    pub ticket: Option<&'a str>,
    pub decision: &'a Decision,
}

/// Insert a denied call: recorded, never run.
pub async fn insert_denied(conn: impl PgExecutor<'_>, op: &NewOperation<'_>) -> Result<(), DbError> {
    insert(conn, op, OperationStatus::Denied, None, Some(&op.decision.reason)).await
}

/// Insert a call that failed before anything ran (invalid arguments, a refused lookup).
pub async fn insert_failed(conn: impl PgExecutor<'_>, op: &NewOperation<'_>, error: &str) -> Result<(), DbError> {
    insert(conn, op, OperationStatus::Failed, None, Some(error)).await
}

/// Insert a call the gateway answered itself, already `succeeded` with its result.
pub async fn insert_answered(conn: impl PgExecutor<'_>, op: &NewOperation<'_>, result: &Value) -> Result<(), DbError> {
    insert(conn, op, OperationStatus::Succeeded, Some(result), None).await
}

/// The stored form of a new operation's record: what every insert writes besides its status.
pub(super) struct Record {
    pub request_id: Option<String>,
    pub inputs: Value,
    pub reason: Option<String>,
    pub ticket: Option<String>,
    pub decision: Value,
}

impl Record {
    /// Bind the record's columns in the order every insert lists them: op_id, request_id, actor,
    /// actor_role, capability, tool, inputs, reason, ticket, decision ($1…$10).
    pub(super) fn bind<'q>(
        self,
        q: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
        op: &'q NewOperation<'_>,
    ) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
        q.bind(op.op_id.0)
            .bind(self.request_id)
            .bind(&op.actor.id)
            .bind(&op.actor.role)
            .bind(op.capability.as_str())
            .bind(op.tool)
            .bind(self.inputs)
            .bind(self.reason)
            .bind(self.ticket)
            .bind(self.decision)
    }

    pub(super) fn of(op: &NewOperation<'_>) -> Self {
        Self {
            request_id: op.request_id.as_deref().map(|r| storable(r).into_owned()),
            inputs: storable_json(&op.inputs),
            // A reason or ticket is free text a person typed: a pasted password or key must not be kept.
            reason: op.reason.map(|r| storable(&crate::redact::redact_text(r)).into_owned()),
            ticket: op.ticket.map(|t| storable(&crate::redact::redact_text(t)).into_owned()),
            decision: storable_json(&serde_json::to_value(op.decision).expect("decision serializes")),
        }
    }
}

/// Insert an operation that has already ended (a queued one goes through [`super::queue`]).
async fn insert(
    conn: impl PgExecutor<'_>,
    op: &NewOperation<'_>,
    status: OperationStatus,
    result: Option<&Value>,
    error: Option<&str>,
) -> Result<(), DbError> {
    debug_assert!(status.is_terminal());
    let r = Record::of(op);
    let q = sqlx::query(
        "INSERT INTO operations (op_id, request_id, actor, actor_role, capability, tool, inputs, reason, ticket,
                                 decision, status, result, error, ended_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, now())",
    );
    r.bind(q, op)
        .bind(status.as_str())
        .bind(result.map(storable_json))
        .bind(error.map(storable).as_deref())
        .execute(conn)
        .await?;
    Ok(())
}

/// Record a refused authentication: who it claimed to be (when a credential named someone), from
/// where, and why — never the presented secret.
pub async fn insert_auth_failure(
    conn: impl PgExecutor<'_>,
    claimed_actor: Option<&str>,
    remote_addr: Option<&str>,
    reason: &str,
    message: &str,
) -> Result<OpId, DbError> {
    let op_id = OpId::generate();
    let decision = storable_json(&serde_json::json!({ "allow": false, "reason": message, "policy_version": "" }));
    let inputs = storable_json(&serde_json::json!({ "remote_addr": remote_addr, "failure": reason }));
    sqlx::query(
        "INSERT INTO operations (op_id, actor, actor_role, capability, tool, inputs, decision, status, error, ended_at)
         VALUES ($1, $2, 'none', 'auth.authenticate', '(authentication)', $3, $4, 'denied', $5, now())",
    )
    .bind(op_id.0)
    .bind(storable(claimed_actor.unwrap_or(crate::domain::ANONYMOUS_ACTOR)).as_ref())
    .bind(inputs)
    .bind(decision)
    .bind(storable(message).as_ref())
    .execute(conn)
    .await?;
    Ok(op_id)
}

/// The end of a run, as stored.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub status: OperationStatus,
    /// Teleport objects the run created or touched (e.g. `[{"kind":"access_request","id":…}]`).
    pub audit_refs: Option<Value>,
    pub exit_code: Option<i32>,
    pub stdout: Option<String>,
    pub stderr: Option<String>,
    pub result: Option<Value>,
    pub error: Option<String>,
}

impl Outcome {
    /// The caller cancelled the run; what was running was stopped.
    pub fn cancelled(error: impl Into<String>) -> Self {
        Self { status: OperationStatus::Cancelled, ..Self::failed(error) }
    }

    /// A run that failed before (or instead of) running a command.
    pub fn failed(error: impl Into<String>) -> Self {
        Self {
            status: OperationStatus::Failed,
            audit_refs: None,
            exit_code: None,
            stdout: None,
            stderr: None,
            result: None,
            error: Some(error.into()),
        }
    }
}

/// Finish a running operation and announce it, in one statement. Fenced on the worker that runs
/// it, so a stale worker cannot overwrite a takeover's result. Returns false when fenced out.
/// `runs` are the CLI runs the job made (see [`crate::teleport::RunLog`]).
pub async fn finish(
    conn: impl PgExecutor<'_>,
    op_id: OpId,
    worker_id: &str,
    out: &Outcome,
    runs: &[crate::teleport::RunEntry],
) -> Result<bool, DbError> {
    debug_assert!(out.status.is_terminal());
    let done: Option<Uuid> = sqlx::query_scalar(
        "WITH upd AS (
            UPDATE operations SET status = $3, ended_at = now(), exit_code = $4, stdout = $5, stderr = $6,
                                  result = $7, error = $8, payload = NULL,
                                  teleport_audit_refs = coalesce($10, teleport_audit_refs), runs = $11
            WHERE op_id = $1 AND status = 'running' AND worker_id = $2
            RETURNING op_id)
         SELECT op_id FROM upd, LATERAL (SELECT pg_notify($9, op_id::text)) n",
    )
    .bind(op_id.0)
    .bind(worker_id)
    .bind(out.status.as_str())
    .bind(out.exit_code)
    .bind(out.stdout.as_deref().map(storable).as_deref())
    .bind(out.stderr.as_deref().map(storable).as_deref())
    .bind(out.result.as_ref().map(storable_json))
    .bind(out.error.as_deref().map(storable).as_deref())
    .bind(OPS_CHANNEL)
    .bind(&out.audit_refs)
    .bind(sqlx::types::Json(runs))
    .fetch_optional(conn)
    .await?;
    Ok(done.is_some())
}

/// `SELECT <every column of an [`OperationRow`]> ` followed by the rest of the query: the one place
/// the row's columns are listed.
macro_rules! select_row {
    ($rest:literal) => {
        concat!(
            "SELECT op_id, request_id, actor, actor_role, capability, tool, inputs, reason, ticket, decision, status, ",
            "attempt, worker_id, created_at, started_at, ended_at, exit_code, result, error, progress, runs, ",
            "coalesced_into, as_of, cluster ",
            $rest
        )
    };
}

/// An operation as read back.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OperationRow {
    pub op_id: Uuid,
    pub request_id: Option<String>,
    pub actor: String,
    pub actor_role: String,
    pub capability: String,
    pub tool: String,
    pub inputs: Value,
    pub reason: Option<String>,
    pub ticket: Option<String>,
    pub decision: Value,
    pub status: String,
    pub attempt: i32,
    pub worker_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub exit_code: Option<i32>,
    pub result: Option<Value>,
    pub error: Option<String>,
    pub progress: Option<Value>,
    /// The CLI runs of the operation: `[{argv, outcome, exit_code, duration_ms}]`, redacted.
    pub runs: Value,
    /// The run this call joined, when it was coalesced with an identical one.
    pub coalesced_into: Option<Uuid>,
    /// When a joined run's answer was produced (its start); `None`: the call's own run.
    pub as_of: Option<DateTime<Utc>>,
    /// The configured cluster it was queued for (none: answered by the gateway, or recorded
    /// before there were several).
    pub cluster: Option<String>,
}

impl OperationRow {
    /// The parsed status.
    pub fn status(&self) -> OperationStatus {
        OperationStatus::parse(&self.status).unwrap_or(OperationStatus::Failed)
    }
}

/// Read one operation.
pub async fn get(conn: impl PgExecutor<'_>, op_id: OpId) -> Result<Option<OperationRow>, DbError> {
    Ok(sqlx::query_as(select_row!("FROM operations WHERE op_id = $1")).bind(op_id.0).fetch_optional(conn).await?)
}

/// Read one operation as it stands: a coalesced call whose run has ended is settled first (its
/// gateway may be gone), so a caller polling for it gets its answer.
pub async fn get_settled(pool: &sqlx::PgPool, op_id: OpId) -> Result<Option<OperationRow>, DbError> {
    let row = get(pool, op_id).await?;
    if let Some(r) = &row
        && r.coalesced_into.is_some()
        && r.status == OperationStatus::Queued.as_str()
        && let Some(settled) = settle_follower(pool, op_id).await?
    {
        return Ok(Some(settled));
    }
    Ok(row)
}

/// The operation if it has ended (one round trip for the gateway's waiter: a completion notice,
/// or its fallback poll, reads the finished row directly).
pub async fn get_terminal(conn: impl PgExecutor<'_>, op_id: OpId) -> Result<Option<OperationRow>, DbError> {
    Ok(sqlx::query_as(select_row!(
        "FROM operations WHERE op_id = $1 AND status NOT IN ('awaiting_approval', 'queued', 'running')"
    ))
    .bind(op_id.0)
    .fetch_optional(conn)
    .await?)
}

/// A coalesced call once it has ended: when the run it joined has ended, it is settled from it
/// first (its answer, or back on the queue if that run was cancelled). One statement
/// (`mtcp_settle_follower`); `None` while it waits.
pub async fn settle_follower(conn: impl PgExecutor<'_>, op_id: OpId) -> Result<Option<OperationRow>, DbError> {
    Ok(sqlx::query_as(select_row!("FROM mtcp_settle_follower($1, $2)"))
        .bind(op_id.0)
        .bind(super::queue::QUEUE_CHANNEL)
        .fetch_optional(conn)
        .await?)
}

/// Settle up to `limit` coalesced calls whose run has ended but whose gateway never did (it went
/// away while they waited). Returns how many were looked at.
pub async fn settle_orphan_followers(conn: impl PgExecutor<'_>, limit: i64) -> Result<u64, DbError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (
            SELECT mtcp_settle_follower(f.op_id, $2)
            FROM operations f JOIN operations l ON l.op_id = f.coalesced_into
            WHERE f.status = 'queued' AND f.coalesced_into IS NOT NULL AND l.status NOT IN ('queued', 'running')
            LIMIT $1) s",
    )
    .bind(limit)
    .bind(super::queue::QUEUE_CHANNEL)
    .fetch_one(conn)
    .await?;
    Ok(n as u64)
}

/// Filters of `search_operations`; `None` matches everything.
#[derive(Debug, Clone, Default)]
pub struct SearchFilter {
    pub actor: Option<String>,
    pub capability: Option<String>,
    pub status: Option<String>,
    /// The tool's exact name.
    pub tool: Option<String>,
    /// Created at or after.
    pub since: Option<DateTime<Utc>>,
    /// Created before.
    pub until: Option<DateTime<Utc>>,
    pub limit: i64,
}

/// The newest operations matching `f`.
pub async fn search(conn: impl PgExecutor<'_>, f: &SearchFilter) -> Result<Vec<OperationRow>, DbError> {
    // Not `result` nor `progress`: a search shows neither, and a result can be large (a search's
    // own result holds fifty rows), so reading them made a search of fifty rows cost ~50 ms.
    Ok(sqlx::query_as(concat!(
        "SELECT op_id, request_id, actor, actor_role, capability, tool, inputs, reason, ticket, decision, status, ",
        "attempt, worker_id, created_at, started_at, ended_at, exit_code, NULL::jsonb AS result, error, ",
        "NULL::jsonb AS progress, runs, coalesced_into, as_of, cluster ",
        "FROM operations
         WHERE ($1::text IS NULL OR actor = $1) AND ($2::text IS NULL OR capability = $2)
           AND ($3::text IS NULL OR status = $3) AND ($4::timestamptz IS NULL OR created_at >= $4)
           AND ($6::text IS NULL OR tool = $6) AND ($7::timestamptz IS NULL OR created_at < $7)
         ORDER BY created_at DESC LIMIT $5"
    ))
    .bind(&f.actor)
    .bind(&f.capability)
    .bind(&f.status)
    .bind(f.since)
    .bind(f.limit)
    .bind(&f.tool)
    .bind(f.until)
    .fetch_all(conn)
    .await?)
}

/// The actor whose call created Teleport access request `request_id`, by our records.
pub async fn request_creator(conn: impl PgExecutor<'_>, request_id: &str) -> Result<Option<(String, Uuid)>, DbError> {
    Ok(sqlx::query_as(
        "SELECT actor, op_id FROM operations
         WHERE tool = 'create_access_request' AND status = 'succeeded' AND result->>'request_id' = $1
         ORDER BY created_at LIMIT 1",
    )
    .bind(request_id)
    .fetch_optional(conn)
    .await?)
}

/// Ids of the access requests `actor` created through the control plane.
pub async fn requests_created_by(conn: impl PgExecutor<'_>, actor: &str) -> Result<Vec<String>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT result->>'request_id' FROM operations
         WHERE tool = 'create_access_request' AND status = 'succeeded' AND actor = $1 AND result ? 'request_id'",
    )
    .bind(actor)
    .fetch_all(conn)
    .await?)
}

/// Channel on which progress of an operation is announced (payload: the op id).
pub const PROGRESS_CHANNEL: &str = "mtcp_progress";

/// Record a progress step: an `operation_events` row, the operation's last progress, a NOTIFY.
/// One statement, so the three never disagree.
pub async fn add_progress(conn: impl PgExecutor<'_>, op_id: OpId, progress: &Value) -> Result<(), DbError> {
    sqlx::query(
        "WITH ev AS (
            INSERT INTO operation_events (op_id, kind, payload) VALUES ($1, 'progress', $2)
            RETURNING op_id),
          upd AS (UPDATE operations SET progress = $2 WHERE op_id = $1 AND status IN ('awaiting_approval', 'running') RETURNING op_id)
         SELECT pg_notify($3, $1::text) FROM ev",
    )
    .bind(op_id.0)
    .bind(storable_json(progress))
    .bind(PROGRESS_CHANNEL)
    .execute(conn)
    .await?;
    Ok(())
}

/// Progress events of an operation after `after_seq` (-1: all), oldest first: (seq, payload).
pub async fn progress_after(
    conn: impl PgExecutor<'_>,
    op_id: OpId,
    after_seq: i64,
) -> Result<Vec<(i64, Value)>, DbError> {
    Ok(sqlx::query_as(
        "SELECT seq::bigint, payload FROM operation_events WHERE op_id = $1 AND kind = 'progress' AND seq > $2 ORDER BY seq",
    )
    .bind(op_id.0)
    .bind(after_seq)
    .fetch_all(conn)
    .await?)
}

/// The progress events of an operation, oldest first.
pub async fn progress_events(conn: impl PgExecutor<'_>, op_id: OpId) -> Result<Vec<Value>, DbError> {
    Ok(sqlx::query_scalar("SELECT payload FROM operation_events WHERE op_id = $1 AND kind = 'progress' ORDER BY seq")
        .bind(op_id.0)
        .fetch_all(conn)
        .await?)
}
