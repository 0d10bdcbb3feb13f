//! Calls waiting for approval: the `awaiting_approval` operation (with its job, not claimable),
//! its `approval_requests` row and the `approvals` of each approver. Every change to a waiting call
//! locks its operation row first, so two approvers, a denial, the reaper's expiry and a
//! cancellation are decided one after the other, and the call is queued at most once.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{PgConnection, PgExecutor, Row};
use uuid::Uuid;

use super::queue::{Lane, QUEUE_CHANNEL, max_attempts};
use super::{DbError, OPS_CHANNEL, storable};
use crate::domain::{LeaseKind, OpId, OperationStatus, ToolJob};
use crate::policy::{ApprovalRule, Approvers};
use crate::tools::approval_views::{ApprovalEntry, ApprovalImpact, ApprovalState};

use super::operations::{NewOperation, Record};

/// The lease `start_proxy` creates once approved: what the policy allowed when the call was made.
/// Its expiry is counted from the approval, not from the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeasePlan {
    pub lease_id: Uuid,
    pub kind: LeaseKind,
    pub target: Value,
    pub listen_addr: Option<String>,
    pub ttl_seconds: u64,
    /// The actor's live-lease cap.
    pub cap: u32,
    /// The edge agent it runs on (None: a worker).
    #[serde(default)]
    pub edge_agent: Option<String>,
}

/// What a waiting call needs besides its operation.
#[derive(Debug, Clone)]
pub struct NewRequest<'a> {
    pub rule: &'a ApprovalRule,
    pub args_sha256: &'a str,
    pub expires_at: DateTime<Utc>,
    pub lease: Option<&'a LeasePlan>,
}

/// Record `op` awaiting approval with its job, its request, and its first trail event.
pub async fn request(
    conn: &mut PgConnection,
    op: &NewOperation<'_>,
    job: &ToolJob,
    req: &NewRequest<'_>,
) -> Result<(), DbError> {
    let (lane, mutating) = (Lane::of(job), job.call.spec().mutating);
    let payload = serde_json::to_value(job).map_err(|e| DbError::Queue(e.to_string()))?;
    let q = sqlx::query(
        "INSERT INTO operations (op_id, request_id, actor, actor_role, capability, tool, inputs, reason, ticket,
                                 decision, status, lane, payload, mutating, run_after, max_attempts, cluster)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'awaiting_approval', $11, $12, $13, now(), $14, $15)",
    );
    Record::of(op)
        .bind(q, op)
        .bind(lane.as_str())
        .bind(super::storable_json(&payload))
        .bind(mutating)
        .bind(max_attempts(mutating))
        .bind(job.cluster.as_deref())
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO approval_requests (op_id, args_sha256, approvers, approvals_required, expires_at, lease_plan)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(op.op_id.0)
    .bind(req.args_sha256)
    .bind(serde_json::to_value(&req.rule.approvers).expect("approvers serialize"))
    .bind(i32::try_from(req.rule.approvals).unwrap_or(i32::MAX))
    .bind(req.expires_at)
    .bind(req.lease.map(|l| serde_json::to_value(l).expect("a lease plan serializes")))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A waiting (or once waiting) call as an approver sees it.
#[derive(Debug, Clone)]
pub struct Pending {
    pub op_id: OpId,
    pub status: OperationStatus,
    pub actor: String,
    pub actor_role: String,
    pub tool: String,
    pub capability: String,
    pub inputs: Value,
    pub reason: Option<String>,
    pub ticket: Option<String>,
    pub created_at: DateTime<Utc>,
    pub lane: Option<String>,
    /// The cluster the call runs on (None: a call recorded before there were several).
    pub cluster: Option<String>,
    /// The policy's decision when the call was made (its constraints: the in-flight cap).
    pub decision: Value,
    pub state: ApprovalState,
    pub lease: Option<LeasePlan>,
}

/// The query of a [`Pending`], completed by `$rest` (static text: only the binds vary).
macro_rules! pending_sql {
    ($rest:literal) => {
        concat!(
            "SELECT o.op_id, o.status, o.actor, o.actor_role, o.tool, o.capability, o.inputs, o.reason, o.ticket, ",
            "o.created_at, o.lane, o.cluster, o.decision, r.args_sha256, r.approvers, r.approvals_required, r.expires_at, ",
            "r.approved_at, r.lease_plan, r.impact_op, i.status AS impact_status, ",
            "i.result -> 'blast_radius' AS impact_radius, i.result ->> 'blast_radius_error' AS impact_error ",
            "FROM operations o JOIN approval_requests r USING (op_id) ",
            "LEFT JOIN operations i ON i.op_id = r.impact_op ",
            $rest
        )
    };
}

fn pending_of(row: &sqlx::postgres::PgRow) -> Result<Pending, DbError> {
    let status: String = row.try_get("status")?;
    let approvers: Value = row.try_get("approvers")?;
    Ok(Pending {
        op_id: OpId(row.try_get("op_id")?),
        status: OperationStatus::parse(&status).unwrap_or(OperationStatus::Failed),
        actor: row.try_get("actor")?,
        actor_role: row.try_get("actor_role")?,
        tool: row.try_get("tool")?,
        capability: row.try_get("capability")?,
        inputs: row.try_get("inputs")?,
        reason: row.try_get("reason")?,
        ticket: row.try_get("ticket")?,
        created_at: row.try_get("created_at")?,
        lane: row.try_get("lane")?,
        cluster: row.try_get("cluster")?,
        decision: row.try_get("decision")?,
        state: ApprovalState {
            args_sha256: row.try_get("args_sha256")?,
            approvers: serde_json::from_value::<Approvers>(approvers).unwrap_or_default(),
            approvals_required: u32::try_from(row.try_get::<i32, _>("approvals_required")?).unwrap_or(1),
            expires_at: row.try_get("expires_at")?,
            decisions: Vec::new(),
            approved_at: row.try_get("approved_at")?,
            impact: impact_of(row)?,
        },
        lease: row.try_get::<Option<Value>, _>("lease_plan")?.and_then(|v| serde_json::from_value(v).ok()),
    })
}

/// The blast radius preview of a waiting access request, as far as its worker got.
fn impact_of(row: &sqlx::postgres::PgRow) -> Result<Option<ApprovalImpact>, DbError> {
    let Some(op_id) = row.try_get::<Option<Uuid>, _>("impact_op")? else { return Ok(None) };
    Ok(Some(ApprovalImpact {
        op_id: op_id.to_string(),
        status: row.try_get::<Option<String>, _>("impact_status")?.unwrap_or_default(),
        blast_radius: row.try_get("impact_radius")?,
        error: row.try_get("impact_error")?,
    }))
}

/// Link a waiting call to the operation that previews what it would make reachable.
pub async fn set_impact(conn: impl PgExecutor<'_>, op_id: OpId, impact_op: OpId) -> Result<(), DbError> {
    sqlx::query("UPDATE approval_requests SET impact_op = $2 WHERE op_id = $1")
        .bind(op_id.0)
        .bind(impact_op.0)
        .execute(conn)
        .await?;
    Ok(())
}

async fn with_decisions(conn: &mut PgConnection, mut pending: Vec<Pending>) -> Result<Vec<Pending>, DbError> {
    let ids: Vec<Uuid> = pending.iter().map(|p| p.op_id.0).collect();
    let rows = sqlx::query(
        "SELECT op_id, approver, approver_role, verdict, reason, at, via FROM approvals
         WHERE op_id = ANY($1) ORDER BY at, approver",
    )
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?;
    for row in rows {
        let op_id: Uuid = row.try_get("op_id")?;
        if let Some(p) = pending.iter_mut().find(|p| p.op_id.0 == op_id) {
            p.state.decisions.push(ApprovalEntry {
                approver: row.try_get("approver")?,
                approver_role: row.try_get("approver_role")?,
                verdict: row.try_get("verdict")?,
                reason: row.try_get("reason")?,
                at: row.try_get("at")?,
                via: row.try_get("via")?,
            });
        }
    }
    Ok(pending)
}

/// Lock a call's operation row for a decision and read it with its approvals (None: no call with
/// that id ever waited for approval).
pub async fn lock(conn: &mut PgConnection, op_id: OpId) -> Result<Option<Pending>, DbError> {
    let sql = pending_sql!("WHERE o.op_id = $1 FOR UPDATE OF o");
    let Some(row) = sqlx::query(sql).bind(op_id.0).fetch_optional(&mut *conn).await? else {
        return Ok(None);
    };
    let pending = pending_of(&row)?;
    Ok(with_decisions(conn, vec![pending]).await?.pop())
}

/// Any operation that waited for approval, with its approvals, unlocked.
pub async fn get(conn: &mut PgConnection, op_id: OpId) -> Result<Option<Pending>, DbError> {
    let sql = pending_sql!("WHERE o.op_id = $1");
    let Some(row) = sqlx::query(sql).bind(op_id.0).fetch_optional(&mut *conn).await? else {
        return Ok(None);
    };
    let pending = pending_of(&row)?;
    Ok(with_decisions(conn, vec![pending]).await?.pop())
}

/// The approval state of any operation that waited for approval (for `get_operation`).
pub async fn state(conn: &mut PgConnection, op_id: OpId) -> Result<Option<ApprovalState>, DbError> {
    Ok(get(conn, op_id).await?.map(|p| p.state))
}

/// The calls waiting for approval, oldest first.
pub async fn pending(conn: &mut PgConnection, limit: i64) -> Result<Vec<Pending>, DbError> {
    let sql = pending_sql!("WHERE o.status = 'awaiting_approval' ORDER BY o.created_at LIMIT $1");
    let rows = sqlx::query(sql).bind(limit).fetch_all(&mut *conn).await?;
    let pending = rows.iter().map(pending_of).collect::<Result<Vec<_>, _>>()?;
    with_decisions(conn, pending).await
}

/// Calls whose approval ran out, locked for the reaper to end (skipping any being decided now).
pub async fn lock_expired(conn: &mut PgConnection, now: DateTime<Utc>, limit: i64) -> Result<Vec<Pending>, DbError> {
    let sql = pending_sql!(
        "WHERE o.status = 'awaiting_approval' AND r.expires_at <= $1 ORDER BY r.expires_at LIMIT $2
         FOR UPDATE OF o SKIP LOCKED"
    );
    let rows = sqlx::query(sql).bind(now).bind(limit).fetch_all(&mut *conn).await?;
    let pending = rows.iter().map(pending_of).collect::<Result<Vec<_>, _>>()?;
    with_decisions(conn, pending).await
}

/// One approver's decision, as recorded.
#[derive(Debug, Clone)]
pub struct NewDecision<'a> {
    pub approver: &'a str,
    pub approver_role: &'a str,
    pub approve: bool,
    pub reason: &'a str,
    pub via: &'a str,
}

/// Record a decision; false when this approver had already decided this call.
pub async fn record(conn: &mut PgConnection, op_id: OpId, d: &NewDecision<'_>) -> Result<bool, DbError> {
    let done = sqlx::query(
        "INSERT INTO approvals (op_id, approver, approver_role, verdict, reason, via) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (op_id, approver) DO NOTHING",
    )
    .bind(op_id.0)
    .bind(storable(d.approver).as_ref())
    .bind(d.approver_role)
    .bind(if d.approve { "approve" } else { "deny" })
    .bind(storable(&crate::redact::redact_text(d.reason)).as_ref())
    .bind(d.via)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Queue an approved call (its row must be locked by [`lock`]) and announce it on its lane.
pub async fn queue(conn: &mut PgConnection, op_id: OpId, lane: &str) -> Result<bool, DbError> {
    let done = sqlx::query(
        "WITH q AS (UPDATE operations SET status = 'queued', run_after = now()
                    WHERE op_id = $1 AND status = 'awaiting_approval' RETURNING op_id),
              r AS (UPDATE approval_requests SET approved_at = now() WHERE op_id IN (SELECT op_id FROM q))
         SELECT pg_notify($2, $3) FROM q",
    )
    .bind(op_id.0)
    .bind(Lane::parse(lane).map_or(QUEUE_CHANNEL, Lane::channel))
    .bind(lane)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(done.is_some())
}

/// End a waiting call (`denied` or `expired`) without running it, and wake whoever waits on it.
pub async fn end(
    conn: impl PgExecutor<'_>,
    op_id: OpId,
    status: OperationStatus,
    error: &str,
) -> Result<bool, DbError> {
    debug_assert!(matches!(status, OperationStatus::Denied | OperationStatus::Expired));
    let done = sqlx::query(
        "WITH e AS (UPDATE operations SET status = $2, ended_at = now(), payload = NULL, error = $3
                    WHERE op_id = $1 AND status = 'awaiting_approval' RETURNING op_id)
         SELECT pg_notify($4, $1::text) FROM e",
    )
    .bind(op_id.0)
    .bind(status.as_str())
    .bind(storable(error).as_ref())
    .bind(OPS_CHANNEL)
    .fetch_optional(conn)
    .await?;
    Ok(done.is_some())
}

/// Append an approval step to the operation's trail (`operation_events`, kind `state`).
pub async fn event(conn: impl PgExecutor<'_>, op_id: OpId, payload: &Value) -> Result<(), DbError> {
    sqlx::query("INSERT INTO operation_events (op_id, kind, payload) VALUES ($1, 'state', $2)")
        .bind(op_id.0)
        .bind(super::storable_json(payload))
        .execute(conn)
        .await?;
    Ok(())
}
