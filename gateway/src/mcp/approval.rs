//! The approval side of a call: a call the policy holds for approval is recorded waiting (with its
//! job, not claimable) and waits like any other call — a task at once for a client that declared
//! tasks, progress notes and the call budget for others — and the tools approvers decide with.

use mtcp_shared::approvals::{self, Approver, Verdict};
use mtcp_shared::db::approvals::LeasePlan;
use mtcp_shared::db::operations::NewOperation;
use mtcp_shared::domain::{Actor, OpId, ToolSpec};
use mtcp_shared::policy::ApprovalRule;
use mtcp_shared::tools::approval_views::{ApprovalDecision, ApprovalList};
use mtcp_shared::tools::{ListApprovalsArgs, ToolCall};
use rmcp::model::CallToolResponse;

use super::call::{Delivery, error_text, wait_and_answer};
use super::tasks;
use crate::state::AppState;

/// Record the call waiting for `rule`'s approval and wait for it (or hand back a task).
pub(super) async fn request_and_wait(
    st: &AppState,
    spec: &ToolSpec,
    op: &NewOperation<'_>,
    call: ToolCall,
    lease: Option<LeasePlan>,
    rule: &ApprovalRule,
    delivery: Delivery,
) -> (&'static str, CallToolResponse) {
    let Delivery { relay, closed, as_task } = delivery;
    let job = super::call::job_of(op, call);
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
