//! One decision for a call, taken the same way by the call itself and by `check_policy`: the
//! policy's verdict on the capability, then the arguments, then the rules on whose objects the call
//! touches, then (for `start_proxy`) the lease limits. `check_policy` answering "allow" for a call
//! that is then denied would teach a model to try what fails.

use mtcp_shared::db;
use mtcp_shared::domain::{Actor, ToolSpec};
use mtcp_shared::policy::{CallContext, Decision, Policy};
use rmcp::model::JsonObject;
use serde_json::Value;

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
    /// Allowed. `args` are the validated arguments as the worker takes them (with what the
    /// decision added: the lease id, the caller's own request ids).
    Allowed { decision: Decision, valid: Validated, args: Value, lease: Option<StartPlan> },
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

/// Decide a call of `spec` with `args` by `actor` under `policy`, without running it.
pub(super) async fn decide(
    st: &AppState,
    policy: &Policy,
    actor: &Actor,
    spec: &'static ToolSpec,
    args: JsonObject,
) -> Verdict {
    let reason = args.get("reason").and_then(Value::as_str);
    let ticket = args.get("ticket").and_then(Value::as_str);
    let decision =
        policy.evaluate(actor, spec.capability, &CallContext { mutating: spec.requires_reason, reason, ticket });
    if !decision.allow {
        return Verdict::Refused(decision);
    }
    let valid = match args::validate(spec, args) {
        Ok(v) => v,
        Err(message) => return Verdict::Invalid { decision, message },
    };
    let mut worker_args = valid.args.clone();
    match guard_objects(st, actor, spec, &decision, &mut worker_args).await {
        Ok(()) => {}
        Err(Refusal::Denied(reason)) => return Verdict::Denied { decision: denied(&decision, reason), valid },
        Err(Refusal::Unavailable) => return Verdict::Unavailable,
    }
    let lease = if spec.name == "start_proxy" {
        match leases::plan_start(actor, &decision, &worker_args) {
            Ok(plan) => {
                worker_args["_lease_id"] = Value::String(plan.lease_id.to_string());
                Some(plan)
            }
            Err(reason) => return Verdict::Denied { decision: denied(&decision, reason), valid },
        }
    } else {
        None
    };
    Verdict::Allowed { decision, valid, args: worker_args, lease }
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

/// Rules about whose objects a call touches, decided on our own records: nobody reviews a request
/// made through the control plane (Teleport forbids its identity reviewing its own requests, and
/// an actor must never approve its own ask); callers limited to their own objects only see and
/// withdraw the requests they created.
async fn guard_objects(
    st: &AppState,
    actor: &Actor,
    spec: &ToolSpec,
    decision: &mtcp_shared::policy::Decision,
    args: &mut Value,
) -> Result<(), Refusal> {
    let own_only = decision.constraints.as_ref().is_some_and(|c| c.own_objects_only);
    let request_id = args.get("request_id").and_then(Value::as_str).map(str::to_owned);
    let creator = |id: String| async move {
        db::operations::request_creator(&st.pool, &id).await.map_err(|e| {
            tracing::error!(error = %e, "looking up an access request's creator");
            Refusal::Unavailable
        })
    };
    match spec.name {
        "review_access_request" => {
            if let Some((who, op)) = creator(request_id.unwrap_or_default()).await? {
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
        "show_access_request" | "drop_access_request" if own_only => {
            let id = request_id.unwrap_or_default();
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
        "list_access_requests" if own_only => {
            let own = db::operations::requests_created_by(&st.pool, &actor.id).await.map_err(|e| {
                tracing::error!(error = %e, "listing an actor's access requests");
                Refusal::Unavailable
            })?;
            args["_own_request_ids"] = Value::from(own);
        }
        _ => {}
    }
    Ok(())
}
