//! The handler of the `tools` lane: run the claimed call's tool, cancellable where that is safe;
//! the shared lifecycle stores the outcome and announces it.

mod access;
mod analysis;
mod audit;
mod inventory;
mod outcome;
mod passthrough;

use std::sync::Arc;

use apalis::prelude::{BoxDynError, Data};
use mtcp_shared::db::{operations::Outcome, queue::Claimed};
use mtcp_shared::domain::{OperationStatus, ToolJob, find_tool};

use crate::JobContext;
use crate::lifecycle::Runner;

/// How long a cancelled job may take to stop its process group before it is abandoned.
const CANCEL_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Handle one claimed call of the `tools` lane. Tool failures are outcomes stored on the
/// operation; nothing goes back to apalis but a task that could not run.
pub(crate) async fn handle(claimed: Claimed, ctx: Data<Arc<JobContext>>) -> Result<(), BoxDynError> {
    let ctx: Arc<JobContext> = (*ctx).clone();
    let runner = Runner { pool: &ctx.pool, worker_id: &ctx.worker_id, tracker: &ctx.jobs };
    let body_ctx = ctx.clone();
    runner.run(claimed, move |claimed| async move { Ok(run_job(claimed.job, body_ctx).await) }).await
}

async fn run_job(job: ToolJob, ctx: Arc<JobContext>) -> Outcome {
    let Some(spec) = find_tool(&job.tool) else {
        tracing::error!("job for an unknown tool");
        return Outcome::failed(format!("this worker does not know the tool {}; upgrade the worker", job.tool));
    };
    let registered = ctx.cancels.register(&ctx.pool, job.op_id).await;
    let cancel = &registered.token.clone();
    let work = async {
        match spec.name {
            name if inventory::handles(name) => inventory::run(&ctx, name, cancel).await,
            name if passthrough::handles(name) => passthrough::run(&ctx, name, &job.args, cancel).await,
            // A change to Teleport, once started, runs to its end: killing it midway would leave its
            // outcome unknown. Cancellation only keeps it from starting.
            name if access::handles(name) => access::run(&ctx, &job).await,
            name if analysis::handles(name) => analysis::run(&ctx, name, job.op_id, cancel).await,
            name if audit::handles(name) => audit::run(&ctx, name, &job.args, job.op_id, cancel).await,
            other => Outcome::failed(format!("this worker cannot run {other}; upgrade the worker")),
        }
    };
    let cancellable = !access::handles(spec.name);
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
    outcome
}
