//! Tools the gateway answers from its own state: `whoami`, `get_operation`, `check_policy` and
//! `search_operations` (their views are the contract's, [`mtcp_shared::tools::views`]).

use mtcp_shared::db;
use mtcp_shared::domain::ToolName;
use mtcp_shared::domain::{Actor, OpId};
use mtcp_shared::policy::{CallContext, Decision};
use mtcp_shared::tools::views::{
    OperationSearchView, OperationSummary, OperationView, PolicyCheckView, WhoamiView, runs_of,
};
use mtcp_shared::tools::{CheckPolicy, CheckPolicyArgs, GetOperationArgs, SearchOperationsArgs, ToolCall};

use super::decide::{Verdict, decide};
use super::leases::Scope;
use crate::state::AppState;

pub fn whoami(st: &AppState, actor: &Actor) -> WhoamiView {
    let policy = st.policy.load();
    let probe = policy.evaluate(actor, mtcp_shared::domain::Capability::SelfWhoami, &CallContext::default());
    WhoamiView {
        actor: actor.id.clone(),
        kind: actor.kind,
        role: actor.role.clone(),
        capabilities: policy.capabilities_of(&actor.role).iter().map(|c| c.as_str().to_owned()).collect(),
        constraints: probe.constraints,
        policy_version: policy.version().to_owned(),
    }
}

/// Look up an operation the caller may see: its own, or any when the policy does not limit it to
/// its own objects. Another actor's operation is reported exactly like a missing one, so ids of
/// others cannot be probed.
pub async fn get_operation(st: &AppState, scope: Scope<'_>, args: &GetOperationArgs) -> Result<OperationView, String> {
    let op_id: OpId = args.op_id.parse().map_err(|e: mtcp_shared::domain::InvalidOpId| e.to_string())?;
    let row = db::operations::get_settled(&st.pool, op_id).await.map_err(|e| {
        tracing::error!(error = %e, "reading an operation");
        "the operation store is unavailable; try again".to_owned()
    })?;
    let row = match row {
        Some(row) if row.actor == scope.actor.id || !scope.own_only => row,
        _ => return Err(format!("no operation {op_id} is visible to you")),
    };
    // Only a call whose role asks for approvals can have waited for one.
    let may_have_waited = row
        .decision
        .pointer("/constraints/require_approval")
        .and_then(serde_json::Value::as_array)
        .is_some_and(|rules| !rules.is_empty());
    let mut view = OperationView::from(row);
    if may_have_waited {
        view.approval = approval_state(st, op_id).await?;
    }
    Ok(view)
}

async fn approval_state(
    st: &AppState,
    op_id: OpId,
) -> Result<Option<mtcp_shared::tools::approval_views::ApprovalState>, String> {
    let unavailable = |e: db::DbError| {
        tracing::error!(error = %e, "reading an operation's approval");
        "the operation store is unavailable; try again".to_owned()
    };
    let mut conn = st.pool.acquire().await.map_err(|e| unavailable(e.into()))?;
    db::approvals::state(&mut conn, op_id).await.map_err(unavailable)
}

/// The decision for a call, without making it: the same [`decide`] the call takes, so what this
/// allows is what the call is allowed (only the rate limit and the in-flight count, which change
/// from one moment to the next, are not consulted).
pub async fn check_policy(st: &AppState, actor: &Actor, a: CheckPolicyArgs) -> Result<PolicyCheckView, String> {
    let spec = mtcp_shared::domain::find_tool(&a.tool)
        .ok_or_else(|| format!("unknown tool {:?}; call tools/list for the tools available to you", a.tool))?;
    let policy = st.policy.load_full();
    let verdict = decide(st, &policy, actor, spec, a.arguments.unwrap_or_default()).await;
    let view = |d: &Decision, arguments_valid: Option<bool>| PolicyCheckView {
        tool: spec.name.to_owned(),
        capability: spec.capability.as_str().to_owned(),
        allow: d.allow,
        reason: d.reason.clone(),
        constraints: d.constraints.clone(),
        policy_version: d.policy_version.clone(),
        arguments_valid,
        approval: None,
        blast_radius: None,
        blast_radius_error: None,
    };
    Ok(match &verdict {
        Verdict::Refused(d) => view(d, None),
        Verdict::Invalid { decision, message } => PolicyCheckView {
            allow: false,
            reason: format!("invalid arguments for {}: {message}", spec.name),
            ..view(decision, Some(false))
        },
        Verdict::Denied { decision, .. } => view(decision, Some(true)),
        Verdict::Allowed { decision, approval: None, .. } => view(decision, Some(true)),
        Verdict::Allowed { decision, approval: Some(rule), .. } => PolicyCheckView {
            reason: format!("{}, after approval: {}", decision.reason, rule.describe()),
            approval: Some((**rule).clone()),
            ..view(decision, Some(true))
        },
        Verdict::Unavailable => return Err("the control plane's database is unavailable; try again".into()),
    })
}

/// Whether `view` is completed on a worker: the verdict on an allowed, valid
/// `create_access_request` gets its blast radius (what the requested roles or resources would make
/// reachable), read from the cluster. A refused or invalid call is the policy's answer alone.
pub fn needs_cluster(args: &CheckPolicyArgs, view: &PolicyCheckView) -> bool {
    args.tool == ToolName::CreateAccessRequest.as_str() && view.allow && view.arguments_valid == Some(true)
}

/// The `check_policy` job a worker completes with the blast radius; `for_approval`: the waiting
/// access request it previews for approvers.
pub fn blast_radius_job(args: CheckPolicyArgs, view: &PolicyCheckView, for_approval: Option<OpId>) -> ToolCall {
    let verdict = serde_json::to_value(view).expect("a verdict serializes");
    ToolCall::CheckPolicy(CheckPolicy { args, verdict: Some(verdict), for_approval: for_approval.map(|o| o.0) })
}

/// The trail, filtered (admin-only by policy).
pub async fn search_operations(st: &AppState, a: SearchOperationsArgs) -> Result<OperationSearchView, String> {
    let filter = db::operations::SearchFilter {
        actor: a.actor,
        capability: a.capability,
        status: a.status,
        since: a.since,
        limit: i64::from(a.limit.unwrap_or(50)),
    };
    let rows = db::operations::search(&st.pool, &filter).await.map_err(|e| {
        tracing::error!(error = %e, "searching operations");
        "the operation store is unavailable; try again".to_owned()
    })?;
    let operations: Vec<OperationSummary> = rows
        .into_iter()
        .map(|r| OperationSummary {
            op_id: r.op_id.to_string(),
            decision: r.decision.get("reason").and_then(|v| v.as_str()).unwrap_or_default().to_owned(),
            actor: r.actor,
            actor_role: r.actor_role,
            capability: r.capability,
            tool: r.tool,
            status: r.status,
            created_at: r.created_at,
            ended_at: r.ended_at,
            reason: r.reason,
            ticket: r.ticket,
            inputs: r.inputs,
            error: r.error,
            argv: runs_of(r.runs).into_iter().map(|run| run.argv).collect(),
        })
        .collect();
    Ok(OperationSearchView { count: operations.len(), operations })
}
