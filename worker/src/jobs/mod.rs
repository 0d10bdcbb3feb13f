//! The job handler: claim the operation (at most once for mutations), run the tool, store the
//! outcome and announce it.

mod access;
mod analysis;
mod audit;
mod inventory;
mod outcome;
mod passthrough;

use std::sync::Arc;
use std::time::Instant;

use apalis::prelude::{BoxDynError, Data};
use mtcp_shared::db::{self, operations::Claim, operations::Outcome};
use mtcp_shared::domain::{OperationStatus, ToolJob};
use mtcp_shared::teleport::Binary;
use mtcp_shared::tools::ToolCall;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::JobContext;

/// How long a cancelled job may take to stop its process group before it is abandoned.
const CANCEL_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// How long a finished job keeps trying to store its outcome while the database is unreachable.
pub(crate) const STORE_BUDGET: std::time::Duration = std::time::Duration::from_secs(120);

/// Handle one job. Tool failures are outcomes stored on the operation; only infrastructure errors
/// (the database) are returned to apalis.
pub(crate) async fn handle(job: ToolJob, ctx: Data<Arc<JobContext>>) -> Result<(), BoxDynError> {
    // apalis polls every in-flight job on one future; run each on its own task so jobs use all cores
    // (tracked: a consumer rebuilt after a database failure waits for them).
    let ctx: Arc<JobContext> = (*ctx).clone();
    let span = job_span(&job);
    ctx.jobs.clone().spawn(run_job(job, ctx).instrument(span)).await.map_err(|e| Box::new(e) as BoxDynError)?
}

/// The span of one job: what its log lines carry (op id, tool, actor, capability), continuing the
/// gateway call's trace when the job brought one.
pub(crate) fn job_span(job: &ToolJob) -> tracing::Span {
    let capability = job.call.spec().capability.as_str();
    let span = tracing::info_span!(
        "run_job",
        op_id = %job.op_id,
        tool = job.tool_name(),
        actor = %job.actor,
        capability,
        lease_id = tracing::field::Empty,
    );
    mtcp_shared::telemetry::continue_trace(&span, job.traceparent.as_deref());
    span
}

async fn run_job(job: ToolJob, ctx: Arc<JobContext>) -> Result<(), BoxDynError> {
    let spec = job.call.spec();
    match db::operations::claim(&ctx.pool, job.op_id, &ctx.worker_id, !spec.mutating).await? {
        Claim::Started { attempt, queued_for } => {
            tracing::debug!(attempt, ?queued_for, "running");
            if attempt == 1 {
                metrics::histogram!("mtcp_job_queue_wait_seconds", "queue" => "tools").record(queued_for.as_secs_f64());
            }
        }
        Claim::AlreadyStarted { attempt } => {
            let msg = format!(
                "outcome_unknown: attempt {attempt} of this {} started but its worker stopped before reporting; \
                 it was not run again. Verify in Teleport whether it took effect before retrying.",
                spec.name
            );
            tracing::warn!(attempt, "mutation found already started; not re-running");
            db::operations::fail_outcome_unknown(&ctx.pool, job.op_id, &msg).await?;
            return Ok(());
        }
        Claim::NotRunnable => {
            tracing::info!("operation is no longer runnable; skipping");
            return Ok(());
        }
    }
    let started = Instant::now();
    let registered = ctx.cancels.register(&ctx.pool, job.op_id).await;
    let cancel = &registered.token.clone();
    // Every CLI run of the job, kept with its outcome.
    let runs = mtcp_shared::teleport::RunLog::new();
    let work = runs.scope(dispatch(&ctx, &job, cancel));
    // A change to Teleport, once started, runs to its end: killing it midway would leave its
    // outcome unknown. Cancellation only keeps it from starting.
    let cancellable = !access::uncancellable(&job.call);
    let mut outcome = if cancellable && cancel.is_cancelled() {
        Outcome::cancelled("cancelled by the caller before it ran")
    } else if cancellable {
        // CLI runs stop their process group on the token themselves; SQL-only jobs are dropped.
        tokio::select! {
            outcome = work => outcome,
            _ = async { cancel.cancelled().await; tokio::time::sleep(CANCEL_GRACE).await } => {
                Outcome::cancelled("cancelled by the caller")
            }
        }
    } else {
        work.await
    };
    if cancellable && cancel.is_cancelled() && outcome.status != OperationStatus::Cancelled {
        outcome = Outcome { status: OperationStatus::Cancelled, ..outcome };
        outcome.error.get_or_insert_with(|| "cancelled by the caller".into());
    }
    drop(registered);
    let took = started.elapsed();
    tracing::info!(status = outcome.status.as_str(), duration_ms = took.as_millis() as u64, "job finished");
    metrics::histogram!("mtcp_job_exec_duration_seconds", "tool" => spec.name).record(took.as_secs_f64());
    metrics::counter!("mtcp_jobs_total", "tool" => spec.name, "status" => outcome.status.as_str()).increment(1);
    // The outcome exists only here: a database restart must not lose it.
    let runs = runs.entries();
    let stored = db::retry::while_transient("storing a job's outcome", STORE_BUDGET, || {
        db::operations::finish(&ctx.pool, job.op_id, &ctx.worker_id, &outcome, &runs)
    });
    if !stored.await? {
        tracing::warn!("the operation was taken over or ended elsewhere; result discarded");
    }
    Ok(())
}

/// Run the job's tool: one arm per tool of the catalog.
async fn dispatch(ctx: &JobContext, job: &ToolJob, cancel: &CancellationToken) -> Outcome {
    use inventory::Inventory;
    let op_id = job.op_id;
    match &job.call {
        ToolCall::ListNodes(_) => inventory::run(ctx, Inventory::Nodes, cancel).await,
        ToolCall::ListProxies(_) => inventory::run(ctx, Inventory::Proxies, cancel).await,
        ToolCall::ListRoles(_) => inventory::run(ctx, Inventory::Roles, cancel).await,
        ToolCall::ListUsers(_) => inventory::run(ctx, Inventory::Users, cancel).await,
        ToolCall::ListTokens(_) => inventory::run(ctx, Inventory::Tokens, cancel).await,
        ToolCall::ListCas(_) => inventory::run(ctx, Inventory::Cas, cancel).await,
        ToolCall::GetAuthPreference(_) => inventory::run(ctx, Inventory::AuthPreference, cancel).await,
        ToolCall::RunTshCommand(a) => passthrough::run(ctx, Binary::Tsh, &a.args, cancel).await,
        ToolCall::RunTctlCommand(a) => passthrough::run(ctx, Binary::Tctl, &a.args, cancel).await,
        ToolCall::ListAccessRequests(a) => access::list(ctx, a).await,
        ToolCall::ShowAccessRequest(a) => access::show(ctx, a).await,
        ToolCall::CreateAccessRequest(a) => access::create(ctx, job, a).await,
        ToolCall::ReviewAccessRequest(a) => access::review(ctx, job, a).await,
        ToolCall::DropAccessRequest(a) => access::withdraw(ctx, job, a).await,
        ToolCall::ScanRbac(_) => analysis::scan_rbac(ctx, op_id, cancel).await,
        ToolCall::RunHealthCheck(_) => analysis::run_health_check(ctx, op_id, cancel).await,
        ToolCall::SearchAudit(a) => audit::run(ctx, audit::Audit::Summary, a, op_id, cancel).await,
        ToolCall::DetectAuditAnomalies(a) => audit::run(ctx, audit::Audit::Anomalies, a, op_id, cancel).await,
        // Lease starts have their own queue and handler (`leases::start`).
        ToolCall::StartProxy(_) => {
            Outcome::failed("a lease start reached the tools queue; it runs on the leases queue")
        }
        ToolCall::CheckPolicy(_)
        | ToolCall::GetOperation(_)
        | ToolCall::GetProxyLogs(_)
        | ToolCall::GetProxyStatus(_)
        | ToolCall::ListProxiesLeases(_)
        | ToolCall::SearchOperations(_)
        | ToolCall::StopProxy(_)
        | ToolCall::Whoami(_) => {
            Outcome::failed(format!("{} is answered by the gateway; no worker runs it", job.tool_name()))
        }
    }
}
