//! Two-person approval of a call, shared by the gateway (the approval tools) and the CLI
//! (`mtcp approvals`): a call the policy says needs approval waits as `awaiting_approval`; approvers
//! named by the policy approve the exact call (its digest) or deny it; the last approval queues it
//! in the same transaction, so concurrent approvals start it once. Each step is a trail event, a
//! progress note for the waiting caller, and (when configured) a webhook message.

pub mod notice;

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::PgPool;

use crate::config::ApprovalsConfig;
use crate::db::approvals::{LeasePlan, NewDecision, NewRequest, Pending};
use crate::db::leases::{Created, NewLease};
use crate::db::operations::NewOperation;
use crate::db::{self, DbError};
use crate::domain::{Actor, ActorKind, AuthSource, Capability, OpId, OperationStatus, ToolJob};
use crate::policy::{ApprovalRule, CallContext, Decision, Policy};
use crate::tools::approval_views::{ApprovalDecision, PendingApproval};

/// What the waiting caller is told: by whom, how many, until when.
pub fn waiting_message(rule_approvers: &str, required: u32, given: u32, expires_at: DateTime<Utc>) -> String {
    format!(
        "awaiting approval by {rule_approvers} ({given} of {required} given); it expires at {}",
        expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    )
}

/// Record `op` waiting for the approval `rule` asks for, with its job (not claimable) and, for
/// `start_proxy`, the lease it will create. Returns when it expires.
pub async fn request(
    pool: &PgPool,
    config: &ApprovalsConfig,
    op: &NewOperation<'_>,
    job: &ToolJob,
    rule: &ApprovalRule,
    lease: Option<&LeasePlan>,
) -> Result<DateTime<Utc>, DbError> {
    let args_sha256 = job.call.digest();
    let expires_after = chrono::Duration::seconds(i64::try_from(rule.expires_after_seconds).unwrap_or(i64::MAX / 1000));
    let expires_at = Utc::now() + expires_after;
    let approvers = rule.approvers.describe();
    let mut tx = pool.begin().await?;
    let req = NewRequest { rule, args_sha256: &args_sha256, expires_at, lease };
    db::approvals::request(&mut tx, op, job, &req).await?;
    let step = json!({
        "event": "approval_requested", "by": op.actor.id, "approvers": rule.approvers,
        "approvals_required": rule.approvals, "expires_at": expires_at, "args_sha256": args_sha256,
    });
    db::approvals::event(&mut *tx, op.op_id, &step).await?;
    let message = waiting_message(&approvers, rule.approvals, 0, expires_at);
    let progress = json!({ "progress": 0, "total": rule.approvals, "message": message });
    db::operations::add_progress(&mut *tx, op.op_id, &progress).await?;
    if config.notifies() {
        let facts = notice::Facts {
            op_id: op.op_id,
            actor: &op.actor.id,
            actor_role: &op.actor.role,
            tool: op.tool,
            arguments: &op.inputs,
            reason: op.reason,
            args_sha256: &args_sha256,
            approvers: &rule.approvers,
            approvals_required: rule.approvals,
            expires_at,
        };
        db::webhooks::enqueue(&mut *tx, op.op_id, "approval.requested", &notice::requested(config, &facts)).await?;
    }
    tx.commit().await?;
    metrics::counter!("mtcp_approvals_total", "event" => "requested").increment(1);
    Ok(expires_at)
}

/// An approver's verdict on a waiting call.
#[derive(Debug, Clone, Copy)]
pub enum Verdict<'a> {
    /// Approve the call whose digest is this.
    Approve {
        args_sha256: &'a str,
    },
    Deny,
}

/// Who decides, how (`tool:<their op id>` or `cli`) and why.
#[derive(Debug, Clone, Copy)]
pub struct Approver<'a> {
    pub actor: &'a Actor,
    pub via: &'a str,
    pub reason: &'a str,
}

/// Why an approver may not decide `p` now (None: they may).
pub fn why_not(p: &Pending, approver: &Actor, now: DateTime<Utc>) -> Option<String> {
    if p.status != OperationStatus::AwaitingApproval {
        return Some(format!("it no longer awaits approval: it is {}", p.status.as_str()));
    }
    if p.state.expires_at <= now {
        return Some("its approval has expired; it ends `expired` and never runs".into());
    }
    if p.actor == approver.id {
        return Some("you made this call, and nobody approves their own call".into());
    }
    if !p.state.approvers.include(approver) {
        return Some(format!("only {} may decide it", p.state.approvers.describe()));
    }
    if let Some(d) = p.state.decisions.iter().find(|d| d.approver == approver.id) {
        return Some(format!("you already decided it ({} at {}); each approver counts once", d.verdict, d.at));
    }
    None
}

/// Approve or deny a waiting call. `Ok(Err(why))`: refused, nothing recorded.
pub async fn decide(
    pool: &PgPool,
    config: &ApprovalsConfig,
    policy: &Policy,
    op_id: OpId,
    approver: Approver<'_>,
    verdict: Verdict<'_>,
) -> Result<Result<ApprovalDecision, String>, DbError> {
    let mut tx = pool.begin().await?;
    let Some(p) = db::approvals::lock(&mut tx, op_id).await? else {
        return Ok(Err(format!("no call {op_id} awaits approval (list_pending_approvals shows those that do)")));
    };
    if let Some(why) = why_not(&p, approver.actor, Utc::now()) {
        return Ok(Err(format!("you may not decide {op_id}: {why}")));
    }
    if let Verdict::Approve { args_sha256 } = verdict
        && args_sha256 != p.state.args_sha256
    {
        return Ok(Err(format!(
            "`args_sha256` does not match the call {op_id} awaits approval for; approve only the call you were \
             shown (list_pending_approvals shows it with its digest)"
        )));
    }
    let approve = matches!(verdict, Verdict::Approve { .. });
    let new = NewDecision {
        approver: &approver.actor.id,
        approver_role: &approver.actor.role,
        approve,
        reason: approver.reason,
        via: approver.via,
    };
    if !db::approvals::record(&mut tx, op_id, &new).await? {
        return Ok(Err(format!("you already decided {op_id}; each approver counts once")));
    }
    let given = p.state.decisions.iter().filter(|d| d.verdict == "approve").count() as u32 + u32::from(approve);
    let required = p.state.approvals_required;
    let step = json!({
        "event": if approve { "approved" } else { "denied" }, "by": approver.actor.id,
        "role": approver.actor.role, "reason": approver.reason, "via": approver.via,
        "approvals": given, "approvals_required": required,
    });
    db::approvals::event(&mut *tx, op_id, &step).await?;
    let by = approver.actor.id.as_str();
    let (status, message, outcome) = if !approve {
        let error = format!("denied by {by}: {}", approver.reason);
        db::approvals::end(&mut *tx, op_id, OperationStatus::Denied, &error).await?;
        (OperationStatus::Denied, format!("denied: {} never runs", p.tool), Some("denied"))
    } else if given < required {
        let message = waiting_message(&p.state.approvers.describe(), required, given, p.state.expires_at);
        let progress =
            json!({ "progress": given, "total": required, "message": format!("approved by {by}; {message}") });
        db::operations::add_progress(&mut *tx, op_id, &progress).await?;
        (OperationStatus::AwaitingApproval, format!("approval {given} of {required} recorded; {message}"), None)
    } else if let Some(refusal) = still_refused(policy, &p) {
        // The policy was reloaded while the call waited, and no longer allows it: approving a call
        // the requester may not make any more would run it anyway.
        let error = format!("approved by {by}, but the policy in force no longer allows it: {refusal}");
        db::approvals::end(&mut *tx, op_id, OperationStatus::Denied, &error).await?;
        (OperationStatus::Denied, error, Some("denied"))
    } else {
        match start(&mut tx, &p).await? {
            Ok(()) => {
                let progress =
                    json!({ "progress": given, "total": required, "message": format!("approved by {by}; queued") });
                db::operations::add_progress(&mut *tx, op_id, &progress).await?;
                (OperationStatus::Queued, format!("approved: {} is queued and runs now", p.tool), Some("approved"))
            }
            Err(refusal) => {
                let error = format!("approved by {by}, but it could not start: {refusal}");
                db::approvals::end(&mut *tx, op_id, OperationStatus::Denied, &error).await?;
                (OperationStatus::Denied, error, Some("approved"))
            }
        }
    };
    if let Some(outcome) = outcome
        && config.notifies()
    {
        let d = notice::Decided { outcome, by: Some(by), reason: approver.reason };
        let payload = notice::decided(config, &notice::Facts::of(&p), &d);
        db::webhooks::enqueue(&mut *tx, op_id, &format!("approval.{outcome}"), &payload).await?;
    }
    tx.commit().await?;
    if let Some(outcome) = outcome {
        decided_metrics(outcome, p.created_at);
    }
    Ok(Ok(ApprovalDecision {
        op_id: op_id.to_string(),
        status,
        approvals: given,
        approvals_required: required,
        message,
    }))
}

/// Why the policy in force refuses the waiting call's requester its capability now (None: allowed).
fn still_refused(policy: &Policy, p: &Pending) -> Option<String> {
    let capability: Capability = p.capability.parse().ok()?;
    let requester = Actor {
        id: p.actor.clone(),
        kind: ActorKind::User,
        role: p.actor_role.clone(),
        source: AuthSource::ConfigApiKey,
        groups: vec![],
    };
    let mutating = crate::domain::find_tool(&p.tool).is_some_and(|t| t.requires_reason);
    let ctx = CallContext {
        mutating,
        reason: p.reason.as_deref(),
        ticket: p.ticket.as_deref(),
        cluster: p.cluster.as_deref(),
    };
    let decision = policy.evaluate(&requester, capability, &ctx);
    (!decision.allow).then_some(decision.reason)
}

fn decided_metrics(outcome: &'static str, requested_at: DateTime<Utc>) {
    metrics::counter!("mtcp_approvals_total", "event" => outcome).increment(1);
    let waited = (Utc::now() - requested_at).to_std().unwrap_or_default();
    metrics::histogram!("mtcp_approval_decision_seconds", "outcome" => outcome).record(waited.as_secs_f64());
}

/// Queue the approved call (its row locked): under the caps that hold now — the actor's calls in
/// flight and, for `start_proxy`, its live leases, whose expiry counts from now. `Ok(Err(why))`:
/// a cap is reached.
async fn start(conn: &mut sqlx::PgConnection, p: &Pending) -> Result<Result<(), String>, DbError> {
    let decision: Option<Decision> = serde_json::from_value(p.decision.clone()).ok();
    let cap = decision.and_then(|d| d.constraints).and_then(|c| c.max_in_flight_calls);
    if let Some(cap) = cap
        && let db::in_flight::Admission::CapReached { in_flight } = db::in_flight::admit(conn, &p.actor, cap).await?
    {
        return Ok(Err(format!(
            "{} has {in_flight} calls in flight, the limit for role '{}' is {cap}",
            p.actor, p.actor_role
        )));
    }
    if let Some(plan) = &p.lease {
        let ttl = chrono::Duration::seconds(i64::try_from(plan.ttl_seconds).unwrap_or(i64::MAX / 1000));
        let lease = NewLease {
            lease_id: plan.lease_id,
            op_id: p.op_id,
            kind: plan.kind,
            actor: &p.actor,
            target: plan.target.clone(),
            requested_listen_addr: plan.listen_addr.as_deref(),
            expires_at: Utc::now() + ttl,
            edge_agent: plan.edge_agent.as_deref(),
        };
        if let Created::CapReached { live } = db::leases::create_capped(conn, &lease, plan.cap).await? {
            return Ok(Err(format!(
                "{} holds {live} live proxy leases, the maximum for role '{}' is {}",
                p.actor, p.actor_role, plan.cap
            )));
        }
    }
    let lane = p.lane.as_deref().unwrap_or("tools");
    if !db::approvals::queue(conn, p.op_id, lane).await? {
        return Err(DbError::Queue(format!("{} left awaiting_approval while locked", p.op_id)));
    }
    Ok(Ok(()))
}

/// End the calls whose approval ran out (the reaper): `expired`, with a trail event and a message.
pub async fn expire_due(
    pool: &PgPool,
    config: &ApprovalsConfig,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<u64, DbError> {
    let mut tx = pool.begin().await?;
    let due = db::approvals::lock_expired(&mut tx, now, limit).await?;
    for p in &due {
        let given = p.state.decisions.iter().filter(|d| d.verdict == "approve").count();
        let why = format!(
            "nobody approved it in time: it needed {} approval(s) by {} before {}, and got {given}; nothing ran",
            p.state.approvals_required,
            p.state.approvers.describe(),
            p.state.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        db::approvals::end(&mut *tx, p.op_id, OperationStatus::Expired, &why).await?;
        db::approvals::event(&mut *tx, p.op_id, &json!({ "event": "expired", "reason": why })).await?;
        if config.notifies() {
            let d = notice::Decided { outcome: "expired", by: None, reason: &why };
            let payload = notice::decided(config, &notice::Facts::of(p), &d);
            db::webhooks::enqueue(&mut *tx, p.op_id, "approval.expired", &payload).await?;
        }
    }
    tx.commit().await?;
    for p in &due {
        decided_metrics("expired", p.created_at);
    }
    Ok(due.len() as u64)
}

/// The waiting calls as `approver` sees them, with whether they may decide each.
pub async fn list(pool: &PgPool, approver: &Actor, limit: i64) -> Result<Vec<PendingApproval>, DbError> {
    let mut conn = pool.acquire().await?;
    let now = Utc::now();
    let pending = db::approvals::pending(&mut conn, limit).await?;
    Ok(pending
        .into_iter()
        .map(|p| {
            let why_not = why_not(&p, approver, now);
            PendingApproval {
                op_id: p.op_id.to_string(),
                tool: p.tool,
                capability: p.capability,
                actor: p.actor,
                actor_role: p.actor_role,
                created_at: p.created_at,
                reason: p.reason,
                ticket: p.ticket,
                arguments: p.inputs,
                approval: p.state,
                you_may_decide: why_not.is_none(),
                why_not,
            }
        })
        .collect())
}
