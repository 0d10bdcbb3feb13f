//! The one call path every tool takes: rate limit → policy → validate → record (+ enqueue, in one
//! transaction) → wait → map the stored outcome to an MCP result.

use std::time::Instant;

use mtcp_shared::db::queue::{Admission, Enqueued};
use mtcp_shared::db::{self, operations::NewOperation};
use mtcp_shared::domain::{Actor, Execution, OpId, ToolJob, ToolName, ToolSpec};
use mtcp_shared::policy::RateLimit;
use mtcp_shared::tools::ToolCall;
use rmcp::model::{CallToolResponse, CallToolResult, JsonObject};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::answer::{error_text, map_outcome, structured, to_json, with_op_id};
use super::args;
use super::decide::{Verdict, decide};
use super::in_flight;
use super::leases;
use super::local;
use super::tasks;
use crate::progress::ProgressRelay;
use crate::state::AppState;
use crate::waiter::WaitOutcome;

/// How a call's answer travels back.
pub struct Delivery {
    /// Progress notifications, when the client sent a token.
    pub relay: Option<ProgressRelay>,
    /// Fires when the client closes the call's stream.
    pub closed: CancellationToken,
    /// Answer with a task (the client declared the tasks extension and the tool is long).
    pub as_task: bool,
}

/// Run one tool call for an authenticated actor. The call gets its op id here, and everything it
/// logs carries that op id, the actor and the capability (the `tool_call` span); with trace export
/// on, the span continues the caller's W3C `traceparent` and its context travels in the job.
pub async fn call(
    st: &AppState,
    actor: &Actor,
    spec: &'static ToolSpec,
    args: JsonObject,
    request_id: Option<String>,
    traceparent: Option<&str>,
    delivery: Delivery,
) -> CallToolResponse {
    let started = Instant::now();
    let op_id = OpId::generate();
    let span = tracing::info_span!(
        "tool_call",
        op_id = %op_id,
        actor = %actor.id,
        capability = %spec.capability,
        tool = spec.name,
        lease_id = tracing::field::Empty,
        outcome = tracing::field::Empty,
    );
    mtcp_shared::telemetry::continue_trace(&span, traceparent);
    let (outcome, result) =
        call_inner(st, actor, spec, op_id, args, request_id, delivery).instrument(span.clone()).await;
    span.record("outcome", outcome);
    metrics::counter!(
        "mtcp_tool_calls_total",
        "tool" => spec.name, "capability" => spec.capability.as_str(), "outcome" => outcome
    )
    .increment(1);
    metrics::histogram!("mtcp_tool_call_duration_seconds", "tool" => spec.name).record(started.elapsed().as_secs_f64());
    result
}

async fn call_inner(
    st: &AppState,
    actor: &Actor,
    spec: &'static ToolSpec,
    op_id: OpId,
    args: JsonObject,
    request_id: Option<String>,
    delivery: Delivery,
) -> (&'static str, CallToolResponse) {
    let policy = st.policy.load_full();
    let call = CallId { op_id, spec, request_id };
    // A call the workers run takes its allowance in the statement that queues it; any other takes
    // it first, before anything of it runs (the gateway answers those itself; a lease start has
    // its own transaction).
    let charged_at_enqueue = spec.execution == Execution::Worker && spec.tool != ToolName::StartProxy;
    if !charged_at_enqueue && let Some(limited) = rate_limit(st, actor, &policy, &call, &args).await {
        return (limited.0, limited.1.into());
    }
    // Recorded inputs are the call's own arguments, whatever the verdict.
    let recorded = args.clone();
    let verdict = decide(st, &policy, actor, spec, args).await;
    // Not queued after all (refused, or waiting for approval): the allowance is taken now, and a
    // limited call is answered as such.
    if charged_at_enqueue
        && !matches!(verdict, Verdict::Allowed { approval: None, .. })
        && let Some(limited) = rate_limit(st, actor, &policy, &call, &recorded).await
    {
        return (limited.0, limited.1.into());
    }
    let Some(decision) = verdict.decision() else {
        return (
            "error",
            error_text("the control plane's database is unavailable; nothing was run. Try again.".into()).into(),
        );
    };
    // The policy's verdict on the capability; later refusals are the call's, not the role's.
    let label = if matches!(verdict, Verdict::Refused(_)) { "deny" } else { "allow" };
    metrics::counter!("mtcp_policy_decisions_total", "capability" => spec.capability.as_str(), "decision" => label)
        .increment(1);
    tracing::info!(decision = label, "tool call");
    let mut op = new_operation(actor, &call, &recorded, decision);
    if let Some(valid) = verdict.valid() {
        op.reason = valid.reason.as_deref();
        op.ticket = valid.ticket.as_deref();
    }
    match &verdict {
        Verdict::Refused(_) | Verdict::Denied { .. } => ("denied", record_denial(st, &op).await.into()),
        Verdict::Invalid { message, .. } => {
            let text = format!("invalid arguments for {}: {message}", spec.name);
            record_failure(st, &op, &text).await;
            ("invalid", with_op_id(error_text(text), op.op_id).into())
        }
        Verdict::Allowed { valid, lease, approval: Some(rule), .. } => {
            let lease = lease.as_ref().map(leases::StartPlan::for_approval);
            let job = job_of(&op, valid.call.clone(), valid.cluster.clone());
            super::approval::request_and_wait(st, spec, &op, job, lease, rule, delivery).await
        }
        Verdict::Allowed { valid, lease, approval: None, .. } => {
            if let Some(lease_id) = valid.call.lease_id() {
                tracing::Span::current().record("lease_id", lease_id);
            }
            match spec.execution {
                Execution::Gateway => match answer_locally(st, actor, &op, &valid.call).await {
                    Local::Answered(label, result) => (label, result.into()),
                    // A verdict that needs the cluster is completed by a worker, as this call's job.
                    Local::OnWorker(call, cluster) => {
                        enqueue_and_wait(st, spec, &op, job_of(&op, call, cluster), None, None, delivery).await
                    }
                },
                Execution::Worker => {
                    if let (ToolCall::RunHealthCheck(_), Some(cluster)) = (&valid.call, &valid.cluster)
                        && let Some(answer) = super::cluster::answer_unserved_health(st, &op, cluster).await
                    {
                        return answer;
                    }
                    let rate = if charged_at_enqueue { policy.rate_limit_of(&actor.role) } else { None };
                    let job = job_of(&op, valid.call.clone(), valid.cluster.clone());
                    enqueue_and_wait(st, spec, &op, job, lease.as_ref(), rate, delivery).await
                }
            }
        }
        Verdict::Unavailable => unreachable!("answered above"),
    }
}

/// Take one call from the actor's allowance (shared by every replica through Postgres). A refusal
/// is recorded and answered with when to retry.
async fn rate_limit(
    st: &AppState,
    actor: &Actor,
    policy: &mtcp_shared::policy::Policy,
    call: &CallId,
    args: &JsonObject,
) -> Option<(&'static str, CallToolResult)> {
    let limit = policy.rate_limit_of(&actor.role)?;
    let retry_after = match db::rate_limit::take(&st.pool, &actor.id, limit).await {
        Ok(Ok(())) => return None,
        Ok(Err(retry_after)) => retry_after,
        Err(e) => {
            tracing::error!(error = %e, "rate limit check");
            return Some(("error", error_text("the control plane's database is unavailable; try again".into())));
        }
    };
    let reason = rate_limited_reason(actor, limit, retry_after);
    let decision = mtcp_shared::policy::Decision::denied(reason.clone(), policy.version());
    let op = new_operation(actor, call, args, &decision);
    Some(("rate_limited", record_rate_limited(st, &op, reason).await))
}

/// Record a call refused by the rate limit (`op` carries the refusal) and answer it with the
/// reason, which says when to retry.
async fn record_rate_limited(st: &AppState, op: &NewOperation<'_>, reason: String) -> CallToolResult {
    if let Err(e) = db::operations::insert_denied(&st.pool, op).await {
        tracing::error!(error = %e, "recording a rate-limited call");
    }
    with_op_id(error_text(reason), op.op_id)
}

/// Why a call over its actor's rate limit was refused, with when to retry (counted).
fn rate_limited_reason(actor: &Actor, limit: RateLimit, retry_after: std::time::Duration) -> String {
    metrics::counter!("mtcp_rate_limited_total", "role" => role_label(&actor.role)).increment(1);
    let secs = retry_after.as_secs_f64().ceil().max(1.0);
    format!(
        "rate limit of role '{}' exceeded ({} calls per {} s); retry after {secs} s",
        actor.role, limit.requests, limit.per_seconds
    )
}

/// What identifies one call: its op id, the tool, the client's JSON-RPC request id.
struct CallId {
    op_id: OpId,
    spec: &'static ToolSpec,
    request_id: Option<String>,
}

/// The record of a call as it arrives: its op id, the redacted inputs, the decision.
fn new_operation<'a>(
    actor: &'a Actor,
    call: &CallId,
    args: &JsonObject,
    decision: &'a mtcp_shared::policy::Decision,
) -> NewOperation<'a> {
    let spec = call.spec;
    NewOperation {
        op_id: call.op_id,
        request_id: call.request_id.clone(),
        actor,
        capability: spec.capability,
        tool: spec.name,
        inputs: args::recorded_inputs(spec, args),
        reason: None,
        ticket: None,
        decision,
    }
}

/// Record a policy denial and answer it: the reason, the policy version and the op id.
async fn record_denial(st: &AppState, op: &NewOperation<'_>) -> CallToolResult {
    if let Err(e) = db::operations::insert_denied(&st.pool, op).await {
        tracing::error!(error = %e, "recording a denial");
    }
    let d = op.decision;
    let text = format!("denied by policy: {} (policy version {}, op_id {})", d.reason, d.policy_version, op.op_id);
    with_op_id(error_text(text), op.op_id)
}

/// Role names are operator-defined: only built-in ones become metric labels.
pub(super) fn role_label(role: &str) -> &'static str {
    mtcp_shared::policy::BUILTIN_ROLES.iter().find(|r| **r == role).copied().unwrap_or("custom")
}

/// What the gateway did with a call it answers itself.
enum Local {
    /// Answered and recorded.
    Answered(&'static str, CallToolResult),
    /// Needs the cluster: this job completes it on a worker (an access request's blast radius), on
    /// the cluster named.
    OnWorker(ToolCall, Option<String>),
}

async fn answer_locally(st: &AppState, actor: &Actor, op: &NewOperation<'_>, call: &ToolCall) -> Local {
    // The policy says whose objects the caller reaches; admins are not special here.
    let scope = leases::Scope { actor, own_only: super::decide::own_objects_only(op.decision) };
    let value = match call {
        ToolCall::Whoami(_) => Ok(to_json(local::whoami(st, actor))),
        ToolCall::GetOperation(a) => local::get_operation(st, scope, a).await.map(to_json),
        ToolCall::CheckPolicy(a) => match local::check_policy(st, actor, a.args.clone()).await {
            Ok(view) if local::needs_cluster(&a.args, &view) => {
                let cluster = view.cluster.clone();
                return Local::OnWorker(local::blast_radius_job(a.args.clone(), &view, None), cluster);
            }
            view => view.map(to_json),
        },
        ToolCall::SearchOperations(a) => local::search_operations(st, a.clone()).await.map(to_json),
        ToolCall::GetProxyStatus(a) => leases::status(st, scope, a).await.map(to_json),
        ToolCall::GetProxyLogs(a) => leases::logs(st, scope, a).await.map(to_json),
        ToolCall::ListProxiesLeases(a) => leases::list(st, scope, a).await.map(to_json),
        ToolCall::StopProxy(a) => leases::stop(st, scope, a).await.map(to_json),
        ToolCall::ListEdgeAgents(_) => leases::edge_agents(st, actor).await.map(to_json),
        ToolCall::ListClusters(_) => super::cluster::list(st, actor).await.map(to_json),
        ToolCall::ListPendingApprovals(a) => super::approval::list(st, actor, a).await.map(to_json),
        ToolCall::ApproveOperation(_) | ToolCall::DenyOperation(_) => {
            super::approval::decide(st, actor, op.op_id, call).await.map(to_json)
        }
        other => Err(format!("tool {} has no gateway implementation", other.name())),
    };
    let (label, result) = match value {
        Ok(value) => match db::operations::insert_answered(&st.pool, op, &value).await {
            Ok(()) => ("succeeded", with_op_id(structured(op.tool, op.op_id, value), op.op_id)),
            Err(e) => {
                tracing::error!(error = %e, "recording an answered call");
                ("error", error_text("the operation store is unavailable; try again".into()))
            }
        },
        Err(msg) => {
            record_failure(st, op, &msg).await;
            ("failed", with_op_id(error_text(msg), op.op_id))
        }
    };
    Local::Answered(label, result)
}

/// Record a call that ended before it could run (invalid arguments, a refused lookup).
async fn record_failure(st: &AppState, op: &NewOperation<'_>, error: &str) {
    if let Err(e) = db::operations::insert_failed(&st.pool, op, error).await {
        tracing::error!(error = %e, "recording a failed call");
    }
}

/// What the enqueue did with a call.
enum Admitted {
    /// Queued to run.
    Queued,
    /// Joined an identical run already queued or running.
    Joined(OpId),
    /// Over the actor's rate limit (nothing recorded yet): the reason.
    RateLimited(String),
    /// Over the actor's in-flight cap, or its lease limits (nothing recorded yet): the reason.
    Denied(String),
}

async fn enqueue_and_wait(
    st: &AppState,
    spec: &ToolSpec,
    op: &NewOperation<'_>,
    job: ToolJob,
    lease: Option<&leases::StartPlan>,
    rate: Option<RateLimit>,
    delivery: Delivery,
) -> (&'static str, CallToolResponse) {
    let Delivery { relay, closed, as_task } = delivery;
    let mut registration = st.waiter.register(op.op_id);
    let enqueued = match lease {
        None => enqueue(st, op, &job, rate, as_task).await,
        Some(plan) => leases::create_and_enqueue(st, op, &job, plan)
            .await
            .map(|r| r.map_or_else(Admitted::Denied, |()| Admitted::Queued)),
    };
    match enqueued {
        Ok(Admitted::Queued) => {}
        Ok(Admitted::Joined(leader)) => {
            tracing::debug!(%leader, "joined an identical run");
            metrics::counter!("mtcp_coalesced_calls_total", "tool" => spec.name).increment(1);
            st.waiter.follow(&mut registration, leader);
        }
        Ok(Admitted::RateLimited(reason)) => {
            let denied = mtcp_shared::policy::Decision::denied(reason.clone(), &op.decision.policy_version);
            let op = NewOperation { decision: &denied, ..op.clone() };
            return ("rate_limited", record_rate_limited(st, &op, reason).await.into());
        }
        Ok(Admitted::Denied(reason)) => {
            let denied = mtcp_shared::policy::Decision::denied(reason, &op.decision.policy_version);
            return ("denied", record_denial(st, &NewOperation { decision: &denied, ..op.clone() }).await.into());
        }
        Err(e) => {
            tracing::error!(error = %e, "enqueueing a tool job");
            return (
                "error",
                error_text("the control plane's database is unavailable; nothing was run. Try again.".into()).into(),
            );
        }
    }
    if as_task {
        // Durable before the answer: the operation row committed with the job.
        return ("task", CallToolResponse::Task(tasks::created(op.op_id, &st.config, None)));
    }
    let still =
        format!("{} is still running after {}s; it goes on.", spec.name, st.config.service.call_budget.as_secs());
    wait_and_answer(st, op.op_id, &registration, relay, closed, still).await
}

/// Wait for a recorded call within the call budget and answer with its outcome; `still` says what
/// it is doing when the budget runs out first. A closed stream cancels it.
pub(super) async fn wait_and_answer(
    st: &AppState,
    op_id: OpId,
    registration: &crate::waiter::Registration,
    mut relay: Option<ProgressRelay>,
    closed: CancellationToken,
    still: String,
) -> (&'static str, CallToolResponse) {
    let waited = tokio::select! {
        w = st.waiter.wait(registration, st.config.service.call_budget, relay.as_mut()) => w,
        _ = closed.cancelled() => {
            let (label, result) = cancel_on_disconnect(st, op_id).await;
            return (label, result.into());
        }
    };
    let (label, result) = match waited {
        Ok(WaitOutcome::Done(row)) => map_outcome(*row),
        Ok(WaitOutcome::StillRunning) => (
            "pending",
            with_op_id(
                error_text(format!("{still} Call get_operation with op_id {op_id} for its state and result.")),
                op_id,
            ),
        ),
        Err(e) => {
            tracing::error!(error = %e, "waiting for an operation");
            ("error", error_text(format!("lost track of the operation; call get_operation with op_id {op_id}")))
        }
    };
    (label, result.into())
}

/// The job of a recorded call: the call as the worker runs it, on its cluster, with the trace it
/// continues.
pub(super) fn job_of(op: &NewOperation<'_>, call: ToolCall, cluster: Option<String>) -> ToolJob {
    ToolJob {
        op_id: op.op_id,
        call,
        actor: op.actor.id.clone(),
        cluster,
        traceparent: mtcp_shared::telemetry::current_traceparent(),
    }
}

/// The client closed the call's stream: that is a cancellation (2026-07-28 has no other). A
/// gateway shutting down is not one — the operation goes on and stays retrievable.
async fn cancel_on_disconnect(st: &AppState, op_id: OpId) -> (&'static str, CallToolResult) {
    if !st.shutdown.is_cancelled() {
        match db::cancel::request(&st.pool, op_id).await {
            Ok(outcome) => {
                tracing::info!(?outcome, "the client closed the stream; cancellation requested");
                metrics::counter!("mtcp_cancellations_total", "via" => "disconnect").increment(1);
            }
            Err(e) => tracing::warn!(error = %e, "recording a cancellation"),
        }
    }
    ("cancelled", with_op_id(error_text(format!("the call was cancelled (op_id {op_id})")), op_id))
}

/// Admit and record the call queued with its job: its allowance (when `rate` is given), the
/// actor's in-flight cap, the join of an identical run — one statement.
async fn enqueue(
    st: &AppState,
    op: &NewOperation<'_>,
    job: &ToolJob,
    rate: Option<RateLimit>,
    as_task: bool,
) -> Result<Admitted, db::DbError> {
    let cap = op.decision.constraints.as_ref().and_then(|c| c.max_in_flight_calls);
    let key = super::coalesce::key(&st.config, &job.call, job.cluster.as_deref());
    // A task is answered as soon as it is queued: that answer must be durable. Any other caller
    // is answered after a finish or a settle, which commit synchronously.
    let admission =
        Admission { rate_limit: rate, in_flight_cap: cap, coalesce_key: key.as_deref(), flush_later: !as_task };
    Ok(match db::queue::admit(&st.pool, op, job, &admission).await? {
        Enqueued::Queued => Admitted::Queued,
        Enqueued::Coalesced { leader } => Admitted::Joined(leader),
        Enqueued::RateLimited { retry_after } => {
            let limit = rate.expect("only a call with a rate limit is refused by it");
            Admitted::RateLimited(rate_limited_reason(op.actor, limit, retry_after))
        }
        Enqueued::CapReached { in_flight } => {
            Admitted::Denied(in_flight::refusal(op, cap.unwrap_or_default(), in_flight))
        }
    })
}
