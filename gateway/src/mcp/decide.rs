//! One decision for a call, taken the same way by the call itself and by `check_policy`: the
//! policy's verdict on the capability, then the arguments, then the rules on whose objects the call
//! touches, then (for `start_proxy`) the lease limits. `check_policy` answering "allow" for a call
//! that is then denied would teach a model to try what fails.

use mtcp_shared::db;
use mtcp_shared::domain::{Actor, Execution, OpId, RequestId, ToolSpec};
use mtcp_shared::policy::{ApprovalRule, CallContext, Decision, Policy};
use mtcp_shared::tools::{ListAccessRequests, ToolCall};
use rmcp::model::JsonObject;
use serde_json::Value;
use uuid::Uuid;

use super::args::{self, Validated};
use super::leases::{self, StartPlan};
use crate::state::AppState;

/// What [`decide`] found.
pub(super) enum Verdict {
    /// The policy refused the capability: nothing about the arguments was looked at, so a caller
    /// that may not use the tool learns nothing about them.
    Refused(Decision),
    /// The policy allows the tool, but the arguments are not valid.
    Invalid { decision: Decision, message: String },
    /// Valid arguments, refused by the rules on objects or by the lease limits.
    Denied { decision: Decision, valid: Validated },
    /// Allowed. `valid.call` is the call as the worker takes it, with what the decision added (the
    /// caller's own request ids); `lease` is what `start_proxy` creates; `approval`, the approval
    /// it waits for first.
    Allowed { decision: Decision, valid: Validated, lease: Option<StartPlan>, approval: Option<Box<ApprovalRule>> },
    /// The database could not be asked; nothing was decided.
    Unavailable,
}

impl Verdict {
    /// The decision recorded with the call; none when nothing was decided.
    pub(super) fn decision(&self) -> Option<&Decision> {
        match self {
            Self::Refused(d)
            | Self::Invalid { decision: d, .. }
            | Self::Denied { decision: d, .. }
            | Self::Allowed { decision: d, .. } => Some(d),
            Self::Unavailable => None,
        }
    }

    /// The validated arguments, when the call got that far.
    pub(super) fn valid(&self) -> Option<&Validated> {
        match self {
            Self::Denied { valid, .. } | Self::Allowed { valid, .. } => Some(valid),
            _ => None,
        }
    }
}

/// Whether the decision limits the caller to its own objects (requests, leases, operations). A
/// decision without constraints (a refusal) limits it: nothing wider is ever assumed.
pub(super) fn own_objects_only(decision: &Decision) -> bool {
    decision.constraints.as_ref().is_none_or(|c| c.own_objects_only)
}

/// Whether `actor` is limited to its own objects, outside a tool call (tasks): the policy's
/// answer for looking at one's operations.
pub(super) fn limited_to_own(policy: &Policy, actor: &Actor) -> bool {
    let probe = policy.evaluate(actor, mtcp_shared::domain::Capability::SelfOperations, &CallContext::default());
    own_objects_only(&probe)
}

/// Decide a call of `spec` with `args` by `actor` under `policy`, without running it.
pub(super) async fn decide(
    st: &AppState,
    policy: &Policy,
    actor: &Actor,
    spec: &'static ToolSpec,
    mut args: JsonObject,
) -> Verdict {
    // Where the call runs is part of what the policy decides on; an unknown name is refused as an
    // invalid argument once the policy has allowed the tool.
    let cluster = super::cluster::take(&st.config, spec, &mut args);
    let reason = args.get("reason").and_then(Value::as_str);
    let ticket = args.get("ticket").and_then(Value::as_str);
    let ctx = CallContext {
        mutating: spec.requires_reason,
        reason,
        ticket,
        cluster: cluster.as_ref().ok().and_then(Option::as_deref),
    };
    let decision = policy.evaluate(actor, spec.capability, &ctx);
    if !decision.allow {
        return Verdict::Refused(decision);
    }
    let cluster = match cluster {
        Ok(cluster) => cluster,
        Err(message) => return Verdict::Invalid { decision, message },
    };
    let mut valid = match args::validate(spec, args) {
        Ok(v) => Validated { cluster, ..v },
        Err(message) => return Verdict::Invalid { decision, message },
    };
    match guard_objects(st, actor, &decision, &mut valid.call).await {
        Ok(()) => {}
        Err(Refusal::Denied(reason)) => return Verdict::Denied { decision: denied(&decision, reason), valid },
        Err(Refusal::Unavailable) => return Verdict::Unavailable,
    }
    let lease = match &valid.call {
        ToolCall::StartProxy(start) => match leases::plan_start(actor, &decision, start) {
            Ok(plan) => Some(plan),
            Err(reason) => return Verdict::Denied { decision: denied(&decision, reason), valid },
        },
        _ => None,
    };
    // Only a call the workers run can wait: the policy refuses rules naming anything else.
    let kind = match &valid.call {
        ToolCall::StartProxy(start) => Some(start.args.kind.as_str()),
        _ => None,
    };
    let approval = (spec.execution == Execution::Worker)
        .then(|| decision.constraints.as_ref()?.approval_for(spec.capability, kind).cloned().map(Box::new))
        .flatten();
    Verdict::Allowed { decision, valid, lease, approval }
}

/// The role's decision turned into a refusal for `reason`, keeping its limits (what a caller needs
/// to make a call that passes, e.g. the longest TTL).
fn denied(decision: &Decision, reason: String) -> Decision {
    Decision { constraints: decision.constraints.clone(), ..Decision::denied(reason, &decision.policy_version) }
}

pub(super) enum Refusal {
    Denied(String),
    Unavailable,
}

fn unavailable(what: &'static str) -> impl FnOnce(db::DbError) -> Refusal {
    move |e| {
        tracing::error!(error = %e, "{what}");
        Refusal::Unavailable
    }
}

/// Rules about whose objects a call touches, decided on our own records: nobody reviews a request
/// made through the control plane (Teleport forbids its identity reviewing its own requests, and
/// an actor must never approve its own ask); callers limited to their own objects only see and act
/// on the requests they created, their own leases and their own operations. Another actor's
/// object is refused exactly like a missing one, so ids cannot be probed.
async fn guard_objects(st: &AppState, actor: &Actor, decision: &Decision, call: &mut ToolCall) -> Result<(), Refusal> {
    let own_only = own_objects_only(decision);
    let creator = |id: String| async move {
        db::operations::request_creator(&st.pool, &id)
            .await
            .map_err(unavailable("looking up an access request's creator"))
    };
    match call {
        ToolCall::ReviewAccessRequest(a) => {
            if let Some((who, op)) = creator(a.request_id.clone()).await? {
                return Err(Refusal::Denied(if who == actor.id {
                    format!("you created this request (op_id {op}); nobody reviews their own request")
                } else {
                    format!(
                        "this request was made through the control plane (by {who}, op_id {op}); Teleport forbids its \
                         identity reviewing its own requests, so a human reviewer must review it in Teleport"
                    )
                }));
            }
        }
        ToolCall::ShowAccessRequest(_) | ToolCall::DropAccessRequest(_) if own_only => {
            let id = call.request_id().unwrap_or_default().to_owned();
            match creator(id.clone()).await? {
                Some((who, _)) if who == actor.id => {}
                _ => {
                    return Err(Refusal::Denied(format!(
                        "role '{}' may only act on its own requests, and {id} is not one of yours",
                        actor.role
                    )));
                }
            }
        }
        ToolCall::ListAccessRequests(ListAccessRequests { own_request_ids, .. }) if own_only => {
            let own = db::operations::requests_created_by(&st.pool, &actor.id)
                .await
                .map_err(unavailable("listing an actor's access requests"))?;
            *own_request_ids = Some(own.iter().filter_map(|id| RequestId::parse(id).ok()).collect());
        }
        ToolCall::GetProxyStatus(_) | ToolCall::GetProxyLogs(_) | ToolCall::StopProxy(_) if own_only => {
            let raw = call.lease_id().unwrap_or_default();
            let lease_id = args::lease_id(&raw).map_err(Refusal::Denied)?;
            let owner = lease_owner(st, lease_id).await?;
            if owner.as_deref() != Some(actor.id.as_str()) {
                return Err(Refusal::Denied(leases::not_visible(lease_id)));
            }
        }
        ToolCall::StartProxy(start) if start.args.edge_agent.is_some() => {
            let name = start.args.edge_agent.clone().unwrap_or_default();
            let agent = db::edge::get(&st.pool, &name).await.map_err(unavailable("looking up an edge agent"))?;
            match agent {
                Some(a) if a.revoked_at.is_none() && (a.owner == actor.id || actor.role == "admin") => {}
                Some(a) if a.revoked_at.is_none() => {
                    return Err(Refusal::Denied(format!(
                        "edge agent {name:?} serves its owner ({}) and admins only",
                        a.owner
                    )));
                }
                _ => {
                    return Err(Refusal::Denied(format!(
                        "no edge agent {name:?} is available to you (list_edge_agents shows those that are)"
                    )));
                }
            }
        }
        ToolCall::GetOperation(a) if own_only => {
            let op_id: OpId =
                a.op_id.parse().map_err(|e: mtcp_shared::domain::InvalidOpId| Refusal::Denied(e.to_string()))?;
            let row = db::operations::get(&st.pool, op_id).await.map_err(unavailable("reading an operation"))?;
            if row.is_none_or(|r| r.actor != actor.id) {
                return Err(Refusal::Denied(format!("no operation {op_id} is visible to you")));
            }
        }
        _ => {}
    }
    Ok(())
}

/// Who holds a lease, if it exists.
async fn lease_owner(st: &AppState, lease_id: Uuid) -> Result<Option<String>, Refusal> {
    let row = db::leases::get(&st.pool, lease_id).await.map_err(unavailable("reading a lease"))?;
    Ok(row.map(|r| r.actor))
}
