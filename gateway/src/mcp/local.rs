//! Tools the gateway answers from its own state: `whoami`, `get_operation`, `check_policy` and
//! `search_operations` (their views are the contract's, [`mtcp_shared::tools::views`]).

use chrono::{DateTime, TimeDelta, Utc};
use mtcp_shared::db;
use mtcp_shared::domain::{Actor, Capability, OpId, ToolName};
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
    let probe = policy.evaluate(actor, Capability::SelfWhoami, &CallContext::default());
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
/// others cannot be probed. Its timeline, approval and (for a caller who may search the audit log)
/// the Teleport audit events of its run window are read at once, after the row.
pub async fn get_operation(st: &AppState, scope: Scope<'_>, args: &GetOperationArgs) -> Result<OperationView, String> {
    let op_id: OpId = args.op_id.parse().map_err(|e: mtcp_shared::domain::InvalidOpId| e.to_string())?;
    let row = db::operations::get_settled(&st.pool, op_id).await.map_err(|e| unavailable(&e, "an operation"))?;
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
    let may_search_audit = st.policy.load().capabilities_of(&scope.actor.role).contains(&Capability::AuditSearch);
    let window = may_search_audit.then(|| run_window(row.started_at, row.ended_at, Utc::now())).flatten();
    let mut view = OperationView::from(row);
    if !may_search_audit {
        hide_nested_audit(&mut view);
    }
    // Only the events of the cluster it ran on (the others' happened elsewhere at the same time).
    let audit_cluster =
        view.cluster.as_deref().and_then(|c| st.config.cluster(c)).and_then(|c| c.audit_name().map(str::to_owned));
    let (approval, events, audit) = tokio::try_join!(
        async { if may_have_waited { approval_state(st, op_id).await } else { Ok(None) } },
        async {
            db::operation_detail::events(&st.pool, op_id, MAX_EVENTS)
                .await
                .map_err(|e| unavailable(&e, "an operation's events"))
        },
        async {
            let Some((from, to)) = window else { return Ok(None) };
            db::operation_detail::audit_between(&st.pool, from, to, audit_cluster.as_deref(), MAX_AUDIT_REFS)
                .await
                .map(Some)
                .map_err(|e| unavailable(&e, "the audit events of an operation's run"))
        },
    )?;
    view.approval = approval;
    view.events = events.into_iter().map(Into::into).collect();
    // Read only for a caller who may search the audit log, and then shown even when empty.
    view.teleport_audit = audit.map(|refs| refs.into_iter().map(Into::into).collect());
    Ok(view)
}

/// Timeline entries `get_operation` shows (the first ones: how the operation began and went).
const MAX_EVENTS: i64 = 200;
/// Audit events `get_operation` shows from a run's window.
const MAX_AUDIT_REFS: i64 = 50;

/// The window in which Teleport may have recorded what an operation's run did: from shortly before
/// it started (clocks of the cluster and of Postgres differ a little) to a while after it ended
/// (Teleport and the event handler deliver late), or now while it runs. `None`: it never ran.
fn run_window(
    started: Option<DateTime<Utc>>,
    ended: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let started = started?;
    let ended = ended.unwrap_or(now);
    Some((started - TimeDelta::seconds(2), ended + TimeDelta::seconds(10)))
}

/// A `get_operation` whose answer was recorded lists the audit events it showed (and its own
/// recorded result may be another such answer): a caller who may not search the audit log does not
/// read them through it.
fn hide_nested_audit(view: &mut OperationView) {
    if view.tool != ToolName::GetOperation.as_str() {
        return;
    }
    let mut next = view.result.as_mut();
    while let Some(serde_json::Value::Object(answer)) = next {
        answer.remove("teleport_audit");
        let nested = answer.get("tool").and_then(serde_json::Value::as_str) == Some(ToolName::GetOperation.as_str());
        next = if nested { answer.get_mut("result") } else { None };
    }
}

fn unavailable(e: &db::DbError, what: &str) -> String {
    tracing::error!(error = %e, reading = what, "the operation store failed");
    "the operation store is unavailable; try again".to_owned()
}

async fn approval_state(
    st: &AppState,
    op_id: OpId,
) -> Result<Option<mtcp_shared::tools::approval_views::ApprovalState>, String> {
    let what = "an operation's approval";
    let mut conn = st.pool.acquire().await.map_err(|e| unavailable(&e.into(), what))?;
    db::approvals::state(&mut conn, op_id).await.map_err(|e| unavailable(&e, what))
}

/// The decision for a call, without making it: the same [`decide`] the call takes, so what this
/// allows is what the call is allowed (only the rate limit and the in-flight count, which change
/// from one moment to the next, are not consulted).
pub async fn check_policy(st: &AppState, actor: &Actor, a: CheckPolicyArgs) -> Result<PolicyCheckView, String> {
    let spec = mtcp_shared::domain::find_tool(&a.tool)
        .ok_or_else(|| format!("unknown tool {:?}; call tools/list for the tools available to you", a.tool))?;
    let policy = st.policy.load_full();
    let arguments = a.arguments.unwrap_or_default();
    // The cluster as asked (none when it is not a configured one), for a verdict given before the
    // arguments were validated.
    let asked = super::cluster::take(&st.config, spec, &mut arguments.clone()).ok().flatten();
    let verdict = decide(st, &policy, actor, spec, arguments).await;
    let cluster = verdict.valid().map_or(asked, |v| v.cluster.clone());
    let view = |d: &Decision, arguments_valid: Option<bool>| PolicyCheckView {
        tool: spec.name.to_owned(),
        capability: spec.capability.as_str().to_owned(),
        cluster: cluster.clone(),
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
        tool: a.tool,
        since: a.since,
        until: a.until,
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn the_run_window_pads_the_run_and_needs_a_start() {
        let (start, end, now) = (at("2026-01-01T10:00:00Z"), at("2026-01-01T10:00:05Z"), at("2026-01-01T11:00:00Z"));
        assert_eq!(run_window(None, None, now), None, "a call that never ran has no window");
        assert_eq!(
            run_window(Some(start), Some(end), now),
            Some((at("2026-01-01T09:59:58Z"), at("2026-01-01T10:00:15Z")))
        );
        assert_eq!(run_window(Some(start), None, now), Some((at("2026-01-01T09:59:58Z"), at("2026-01-01T11:00:10Z"))));
    }

    #[test]
    fn audit_shown_by_a_recorded_get_operation_is_hidden_at_every_depth() {
        let inner =
            json!({ "tool": "list_nodes", "teleport_audit": [{ "uid": "a" }], "result": { "teleport_audit": 1 } });
        let middle = json!({ "tool": "get_operation", "teleport_audit": [{ "uid": "b" }], "result": inner });
        let row = db::operations::OperationRow {
            op_id: uuid::Uuid::nil(),
            request_id: None,
            actor: "alice".into(),
            actor_role: "admin".into(),
            capability: "self.operations".into(),
            tool: "get_operation".into(),
            inputs: json!({}),
            reason: None,
            ticket: None,
            decision: json!({}),
            status: "succeeded".into(),
            attempt: 0,
            worker_id: None,
            created_at: at("2026-01-01T10:00:00Z"),
            started_at: None,
            ended_at: None,
            exit_code: None,
            result: Some(json!({ "tool": "get_operation", "teleport_audit": [{ "uid": "c" }], "result": middle })),
            error: None,
            progress: None,
            runs: json!([]),
            coalesced_into: None,
            as_of: None,
            cluster: None,
        };
        let mut view = OperationView::from(row.clone());
        hide_nested_audit(&mut view);
        let shown = view.result.unwrap().to_string();
        assert!(!shown.contains("\"uid\""), "{shown}");
        // The result of another tool is that tool's own, whatever its fields are named.
        assert!(shown.contains("\"teleport_audit\":1"), "{shown}");

        let mut other = OperationView::from(db::operations::OperationRow { tool: "list_nodes".into(), ..row });
        hide_nested_audit(&mut other);
        assert!(other.result.unwrap().to_string().contains("\"uid\":\"c\""), "another tool's result is its own");
    }
}
