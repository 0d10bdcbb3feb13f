//! The life of a claimed call, one for tool calls and lease starts alike: its span (joining the
//! gateway call's trace), its own task, the run with every CLI run it makes recorded, and the
//! outcome stored — retried while the database is unreachable — fenced to this worker and counted.

use std::future::Future;
use std::time::Instant;

use apalis::prelude::BoxDynError;
use mtcp_shared::db::queue::Claimed;
use mtcp_shared::db::{self, DbError, operations::Outcome};
use tokio_util::task::TaskTracker;
use tracing::Instrument;

/// How long a finished call keeps trying to store its outcome while the database is unreachable.
/// The outcome exists only here: past this the worker gives up on it, and the operation stays
/// `running` until this incarnation goes offline and recovery decides (a read runs again).
pub(crate) const STORE_BUDGET: std::time::Duration = std::time::Duration::from_secs(600);

/// Where a call runs.
pub(crate) struct Runner<'a> {
    pub pool: &'a sqlx::PgPool,
    pub worker_id: &'a str,
    /// The tasks of started calls (shutdown waits for them).
    pub tracker: &'a TaskTracker,
}

impl Runner<'_> {
    /// Run `body` for `claimed` on a task of its own and store its outcome. apalis polls every
    /// in-flight call on one future, so each runs on its own task to use every core (and, for a
    /// lease start, on a runtime thread: a process's parent-death signal is tied to the thread
    /// that spawned it). A database error in `body` ends the call `failed`, saying so.
    pub(crate) async fn run<F, Fut>(&self, claimed: Claimed, body: F) -> Result<(), BoxDynError>
    where
        F: FnOnce(Claimed) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Outcome, DbError>> + Send + 'static,
    {
        let span = span(&claimed);
        let op_id = claimed.op_id;
        let (pool, worker_id) = (self.pool.clone(), self.worker_id.to_owned());
        let work = async move {
            let (op_id, tool, lane) = (claimed.op_id, claimed.job.tool_name(), db::queue::Lane::of(&claimed.job));
            // Configured names only (a claim takes only the clusters served): a bounded label.
            let cluster = claimed.job.cluster.clone().unwrap_or_else(|| "default".to_owned());
            tracing::debug!(attempt = claimed.attempt, queued_for = ?claimed.queued_for, "running");
            if claimed.attempt == 1 {
                metrics::histogram!("mtcp_job_queue_wait_seconds", "queue" => lane.as_str(), "cluster" => cluster.clone())
                    .record(claimed.queued_for.as_secs_f64());
            }
            let started = Instant::now();
            let runs = mtcp_shared::teleport::RunLog::new();
            let outcome = match runs.scope(body(claimed)).await {
                Ok(outcome) => outcome,
                Err(e) => {
                    tracing::error!(error = %e, "the database failed while the call ran");
                    Outcome::failed(format!("the control plane's database failed while this call ran: {e}"))
                }
            };
            let took = started.elapsed();
            tracing::info!(status = outcome.status.as_str(), duration_ms = took.as_millis() as u64, "job finished");
            metrics::histogram!("mtcp_job_exec_duration_seconds", "tool" => tool).record(took.as_secs_f64());
            metrics::counter!("mtcp_jobs_total", "tool" => tool, "status" => outcome.status.as_str(), "cluster" => cluster)
                .increment(1);
            let runs = runs.entries();
            let stored = db::retry::while_transient("storing a call's outcome", STORE_BUDGET, || {
                db::operations::finish(&pool, op_id, &worker_id, &outcome, &runs)
            });
            if !stored.await? {
                tracing::warn!("the operation was taken over or ended elsewhere; result discarded");
            }
            Ok(())
        };
        match self.tracker.spawn(work.instrument(span.clone())).await {
            Ok(done) => done,
            // A bug panicked the call: end it rather than leave it `running` under a live worker.
            Err(e) => {
                let out = Outcome::failed(format!("the worker failed while running this call: {e}"));
                async {
                    tracing::error!(error = %e, "the call's task failed");
                    db::operations::finish(self.pool, op_id, self.worker_id, &out, &[]).await
                }
                .instrument(span)
                .await?;
                Err(Box::new(e))
            }
        }
    }
}

/// The span of one call: what its log lines carry (op id, tool, actor, capability), continuing
/// the gateway call's trace when the call brought one.
pub(crate) fn span(claimed: &Claimed) -> tracing::Span {
    let job = &claimed.job;
    let capability = job.call.spec().capability.as_str();
    let span = tracing::info_span!(
        "run_job",
        op_id = %job.op_id,
        tool = job.tool_name(),
        actor = %job.actor,
        capability,
        cluster = job.cluster.as_deref().unwrap_or("default"),
        attempt = claimed.attempt,
        lease_id = tracing::field::Empty,
    );
    mtcp_shared::telemetry::continue_trace(&span, job.traceparent.as_deref());
    span
}
