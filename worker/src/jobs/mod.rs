//! The handler of the `tools` lane: run the claimed call's tool, cancellable where that is safe;
//! the shared lifecycle stores the outcome and announces it.

mod access;
mod analysis;
mod audit;
mod blast;
mod inventory;
mod outcome;
mod passthrough;

use std::sync::Arc;

use apalis::prelude::{BoxDynError, Data};
use mtcp_shared::db::{operations::Outcome, queue::Claimed};
use mtcp_shared::domain::{OperationStatus, ToolJob};
use mtcp_shared::teleport::Binary;
use mtcp_shared::tools::ToolCall;
use tokio_util::sync::CancellationToken;

use crate::lifecycle::Runner;
use crate::{Contexts, JobContext};

/// How long a cancelled job may take to stop its process group before it is abandoned.
const CANCEL_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// Handle one claimed call of the `tools` lane. Tool failures are outcomes stored on the
/// operation; nothing goes back to apalis but a task that could not run.
pub(crate) async fn handle(claimed: Claimed, contexts: Data<Arc<Contexts>>) -> Result<(), BoxDynError> {
    let any = contexts.any().clone();
    let runner = Runner { pool: &any.pool, worker_id: &any.worker_id, tracker: &any.jobs };
    // The claim took only calls of the clusters served; this holds whatever reached here.
    let ctx = contexts.get(claimed.job.cluster.as_deref()).map(|(_, ctx)| ctx.clone());
    runner
        .run(claimed, move |claimed| async move {
            Ok(match ctx {
                Ok(ctx) => run_job(claimed.job, ctx).await,
                Err(not_served) => Outcome::failed(not_served),
            })
        })
        .await
}

async fn run_job(job: ToolJob, ctx: Arc<JobContext>) -> Outcome {
    let registered = ctx.cancels.register(&ctx.pool, job.op_id).await;
    let cancel = &registered.token.clone();
    let work = dispatch(&ctx, &job, cancel);
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
    outcome
}

/// Run the job's tool: one arm per tool of the catalog.
async fn dispatch(ctx: &JobContext, job: &ToolJob, cancel: &CancellationToken) -> Outcome {
    use inventory::Inventory;
    let op_id = job.op_id;
    match &job.call {
        ToolCall::ListNodes(_) => inventory::run(ctx, Inventory::Nodes, cancel).await,
        ToolCall::ListProxies(_) => inventory::run(ctx, Inventory::Proxies, cancel).await,
        ToolCall::ListDatabases(_) => inventory::run(ctx, Inventory::Databases, cancel).await,
        ToolCall::ListApps(_) => inventory::run(ctx, Inventory::Apps, cancel).await,
        ToolCall::ListMcpServers(_) => inventory::run(ctx, Inventory::McpServers, cancel).await,
        ToolCall::ListKubeClusters(_) => inventory::run(ctx, Inventory::KubeClusters, cancel).await,
        ToolCall::ListWindowsDesktops(_) => inventory::run(ctx, Inventory::WindowsDesktops, cancel).await,
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
        ToolCall::CheckPolicy(c) => blast::run(ctx, c, op_id, cancel).await,
        ToolCall::ApproveOperation(_)
        | ToolCall::DenyOperation(_)
        | ToolCall::GetOperation(_)
        | ToolCall::ListClusters(_)
        | ToolCall::ListEdgeAgents(_)
        | ToolCall::ListPendingApprovals(_)
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
