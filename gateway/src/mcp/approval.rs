//! The approval side of a call: a call the policy holds for approval is recorded waiting (with its
//! job, not claimable) and waits like any other call — a task at once for a client that declared
//! tasks, progress notes and the call budget for others — and the tools approvers decide with.

use mtcp_shared::approvals::{self, Approver, Verdict};
use mtcp_shared::db::approvals::LeasePlan;
use mtcp_shared::db::operations::NewOperation;
use mtcp_shared::domain::{Actor, OpId, ToolName, ToolSpec};
use mtcp_shared::policy::ApprovalRule;
use mtcp_shared::tools::approval_views::{ApprovalDecision, ApprovalList};
use mtcp_shared::tools::{CheckPolicyArgs, ListApprovalsArgs, ToolCall};
use rmcp::model::CallToolResponse;

use super::answer::error_text;
use super::call::{Delivery, wait_and_answer};
use super::tasks;
use crate::state::AppState;

/// Record the call waiting for `rule`'s approval and wait for it (or hand back a task).
pub(super) async fn request_and_wait(
    st: &AppState,
    spec: &ToolSpec,
    op: &NewOperation<'_>,
    job: mtcp_shared::domain::ToolJob,
    lease: Option<LeasePlan>,
    rule: &ApprovalRule,
    delivery: Delivery,
) -> (&'static str, CallToolResponse) {
    let Delivery { relay, closed, as_task } = delivery;
    let access_request = matches!(job.call, ToolCall::CreateAccessRequest(_));
    // Before the commit: an approval (and a run) may follow at once.
    let registration = st.waiter.register(op.op_id);
    let expires_at = match approvals::request(&st.pool, &st.config.approvals, op, &job, rule, lease.as_ref()).await {
        Ok(at) => at,
        Err(e) => {
            tracing::error!(error = %e, "recording a call awaiting approval");
            let text = "the control plane's database is unavailable; nothing was run. Try again.";
            return ("error", error_text(text.into()).into());
        }
    };
    if access_request {
        preview_impact(st, op, &job.call).await;
    }
    let waiting = approvals::waiting_message(&rule.approvers.describe(), rule.approvals, 0, expires_at);
    tracing::info!(approvers = %rule.approvers.describe(), %expires_at, "awaiting approval");
    if as_task {
        return ("task", CallToolResponse::Task(tasks::created(op.op_id, &st.config, Some(waiting))));
    }
    let still = format!(
        "{} is {waiting}. Nothing runs until it is approved; it ends `denied` or `expired` otherwise.",
        spec.name
    );
    wait_and_answer(st, op.op_id, &registration, relay, closed, still).await
}

/// Queue the `check_policy` of a waiting access request, as its requester, so approvers see what
/// it would make reachable next to the call. A preview that cannot be queued is left out: the
/// request waits all the same.
async fn preview_impact(st: &AppState, op: &NewOperation<'_>, call: &ToolCall) {
    let ToolCall::CreateAccessRequest(args) = call else { return };
    let Ok(serde_json::Value::Object(arguments)) = serde_json::to_value(args) else { return };
    let question =
        CheckPolicyArgs { tool: ToolName::CreateAccessRequest.as_str().to_owned(), arguments: Some(arguments) };
    let Ok(view) = super::local::check_policy(st, op.actor, question.clone()).await else { return };
    if !super::local::needs_cluster(&question, &view) {
        return;
    }
    let cluster = view.cluster.clone();
    let preview = super::local::blast_radius_job(question.clone(), &view, Some(op.op_id));
    let spec = ToolName::CheckPolicy.spec();
    let mut inputs = serde_json::to_value(&question).unwrap_or_default();
    inputs["for_approval_of"] = serde_json::Value::String(op.op_id.to_string());
    let preview_op = NewOperation {
        op_id: OpId::generate(),
        request_id: None,
        actor: op.actor,
        capability: spec.capability,
        tool: spec.name,
        inputs,
        reason: None,
        ticket: None,
        decision: op.decision,
    };
    let job = super::call::job_of(&preview_op, preview, cluster);
    let queued = async {
        mtcp_shared::db::queue::enqueue(&st.pool, &preview_op, &job).await?;
        mtcp_shared::db::approvals::set_impact(&st.pool, op.op_id, preview_op.op_id).await
    };
    if let Err(e) = queued.await {
        tracing::warn!(error = %e, "queueing the blast radius preview of a waiting access request");
    }
}

/// `list_pending_approvals`.
pub(super) async fn list(st: &AppState, actor: &Actor, a: &ListApprovalsArgs) -> Result<ApprovalList, String> {
    let limit = i64::from(a.limit.unwrap_or(50));
    let approvals = approvals::list(&st.pool, actor, limit).await.map_err(|e| {
        tracing::error!(error = %e, "listing pending approvals");
        "the operation store is unavailable; try again".to_owned()
    })?;
    Ok(ApprovalList { count: approvals.len(), approvals })
}

/// `approve_operation` and `deny_operation`: the approver's own call is `own_op`.
pub(super) async fn decide(
    st: &AppState,
    actor: &Actor,
    own_op: OpId,
    call: &ToolCall,
) -> Result<ApprovalDecision, String> {
    let (op_id, reason, verdict) = match call {
        ToolCall::ApproveOperation(a) => (&a.op_id, &a.reason, Verdict::Approve { args_sha256: &a.args_sha256 }),
        ToolCall::DenyOperation(a) => (&a.op_id, &a.reason, Verdict::Deny),
        other => return Err(format!("{} is not an approval decision", other.name())),
    };
    let op_id: OpId = op_id.parse().map_err(|e: mtcp_shared::domain::InvalidOpId| e.to_string())?;
    let via = format!("tool:{own_op}");
    let approver = Approver { actor, via: &via, reason };
    let policy = st.policy.load_full();
    let decided =
        approvals::decide(&st.pool, &st.config.approvals, &policy, op_id, approver, verdict).await.map_err(|e| {
            tracing::error!(error = %e, "recording an approval decision");
            "the operation store is unavailable; nothing was decided. Try again.".to_owned()
        })?;
    match &decided {
        Ok(d) => tracing::info!(decided = %op_id, status = d.status.as_str(), "approval decision"),
        Err(why) => tracing::info!(decided = %op_id, refused = %why, "approval decision refused"),
    }
    decided
}
