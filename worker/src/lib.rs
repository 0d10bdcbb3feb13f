//! The worker: one process incarnation registered in `agents`, running apalis workers over the
//! `operations` queue: the `tools` lane (each call run once and its outcome stored) and the
//! `leases` lane, whose calls start proxy leases this incarnation then owns; in each, only the
//! calls of the clusters it serves (`worker.clusters`), each with that cluster's identity.

mod agent;
mod cancels;
mod identity_watch;
mod jobs;
mod leases;
mod lifecycle;
mod progress;
mod queue;
mod queue_depth;
mod served;

use std::sync::Arc;

use anyhow::Context;
use apalis::prelude::*;
use mtcp_shared::config::{ClusterConfig, Config};
use mtcp_shared::db::{self, leases::LEASES_CHANNEL, queue::Lane, queue::QUEUE_CHANNEL};
use mtcp_shared::notifier::Notifier;
use mtcp_shared::teleport::{Runner, RunnerSettings};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use served::Served;

pub use agent::Agent;
pub use queue::OperationsBackend;

/// What every job handler needs: one per cluster served.
pub(crate) struct JobContext {
    pool: sqlx::PgPool,
    /// The cluster the job runs on, and the CLI runner with its identity.
    cluster: ClusterConfig,
    runner: Runner,
    /// `operations.worker_id` of runs claimed by this incarnation.
    worker_id: String,
    /// Thresholds of `detect_audit_anomalies`.
    anomalies: mtcp_shared::config::AnomalyThresholds,
    /// Where an access request's blast radius is announced to its approvers.
    approvals: mtcp_shared::config::ApprovalsConfig,
    /// Running jobs a caller may cancel.
    cancels: cancels::Cancels,
    /// The tasks of started calls (shutdown waits for them).
    jobs: tokio_util::task::TaskTracker,
}

/// The CLI runner settings of the default cluster, with a TELEPORT_HOME of `home_subdir`'s own.
pub fn runner_settings(config: &Config, home_subdir: &str) -> RunnerSettings {
    let default = config.default_cluster();
    let cluster = config.cluster(&default).expect("the default cluster is configured (validated)");
    cluster_runner_settings(&cluster, home_subdir)
}

/// The CLI runner settings of one cluster, with a TELEPORT_HOME of `home_subdir`'s own (and of the
/// cluster's, so two clusters sharing a `home` never share a tsh profile).
pub fn cluster_runner_settings(c: &ClusterConfig, home_subdir: &str) -> RunnerSettings {
    RunnerSettings {
        tctl_path: c.tctl_path.clone(),
        tsh_path: c.tsh_path.clone(),
        proxy: c.proxy.clone(),
        identity_file: c.identity_file.clone(),
        leaf_cluster: c.leaf.then(|| c.teleport_name().to_owned()),
        home_dir: c.home.join(home_subdir).join(&c.name),
        timeout: c.timeout,
        kill_grace: c.kill_grace,
        output_limit_bytes: c.output_limit_bytes,
        env: c.env.clone(),
        env_passthrough: c.env_passthrough.clone(),
    }
}

/// The runner of each cluster a worker serves.
pub(crate) type ClusterRunners = Served<Runner>;
/// The job context of each cluster a worker serves.
pub(crate) type Contexts = Served<Arc<JobContext>>;

/// Run a worker until `shutdown` fires (or the reaper declares it offline).
pub async fn run(config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    let pool =
        db::connect(config.database_url()?, config.database.max_connections, config.database.connect_timeout).await?;
    db::ensure_migrated(&pool).await?;
    let served: Vec<String> = config.worker_clusters().into_iter().map(|c| c.name).collect();
    let agent = Agent::register(&pool, &served).await.context("registering the worker in `agents`")?;
    // Every log line of this incarnation names it (a log-only span: it lasts as long as the process).
    let span = tracing::info_span!(target: mtcp_shared::telemetry::LOG_CONTEXT, "worker", agent_id = %agent.id);
    serve(config, shutdown, pool, agent).instrument(span).await
}

async fn serve(config: Config, shutdown: CancellationToken, pool: sqlx::PgPool, agent: Agent) -> anyhow::Result<()> {
    let mut runners = std::collections::BTreeMap::new();
    for cluster in config.worker_clusters() {
        let runner = Runner::new(cluster_runner_settings(&cluster, &agent.id.to_string()))
            .with_context(|| format!("preparing the Teleport CLI runner of cluster {:?}", cluster.name))?;
        runners.insert(cluster.name.clone(), (cluster, runner));
    }
    let runners = Served::new(runners, config.default_cluster());
    let serving = runners.serving();
    tracing::info!(clusters = ?serving.clusters, "serving clusters");
    let stop = shutdown.child_token();

    let ops = mtcp_shared::telemetry::serve_ops(config.worker.listen, pool.clone(), stop.clone())
        .await
        .with_context(|| format!("binding worker.listen {}", config.worker.listen))?;
    tracing::info!(addr = %ops, "worker health and metrics listening");

    let beat_until = CancellationToken::new();
    let heartbeat = tokio::spawn(agent.clone().heartbeat_loop(
        pool.clone(),
        config.worker.heartbeat_interval,
        beat_until.clone(),
        stop.clone(),
    ));
    let depth = tokio::spawn(queue_depth::run(pool.clone(), config.worker.heartbeat_interval, stop.clone()));
    let identities: Vec<_> = runners
        .values()
        .map(|(cluster, _)| {
            tokio::spawn(identity_watch::run(
                cluster.identity_file.clone(),
                cluster.name.clone(),
                config.worker.heartbeat_interval,
                stop.clone(),
            ))
        })
        .collect();
    // One LISTEN connection for the whole process: the lanes' wake-ups, cancellations, lease stops.
    let notifier =
        Notifier::start(pool.clone(), &[QUEUE_CHANNEL, db::cancel::CANCEL_CHANNEL, LEASES_CHANNEL], stop.clone());
    let leases =
        leases::LeaseManager::new(pool.clone(), runners.map(|(_, r)| r.clone()), agent.clone(), config.leases.clone());
    match leases.kill_leftovers().await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(killed = n, "killed lease processes left by previous incarnations on this host"),
        Err(e) => tracing::warn!(error = %e, "could not look for lease processes of previous incarnations"),
    }
    let lease_loops = leases.spawn_loops(notifier.subscribe(LEASES_CHANNEL), &stop);
    // One context per cluster; what is per process (cancellations, the started tasks) is shared.
    let (cancels, jobs) = (cancels::Cancels::default(), tokio_util::task::TaskTracker::new());
    let ctx = Arc::new(runners.map(|(cluster, runner)| {
        Arc::new(JobContext {
            pool: pool.clone(),
            cluster: cluster.clone(),
            runner: runner.clone(),
            worker_id: agent.id.to_string(),
            anomalies: config.audit.anomalies.clone(),
            approvals: config.approvals.clone(),
            cancels: cancels.clone(),
            jobs: jobs.clone(),
        })
    }));
    let cancel_listener = tokio::spawn(cancels.clone().listen(
        pool.clone(),
        notifier.subscribe(db::cancel::CANCEL_CHANNEL),
        stop.clone(),
    ));
    tracing::info!(concurrency = config.worker.concurrency, "worker started");
    let worker_id = agent.id.to_string();
    let tools = WorkerBuilder::new(agent.apalis_name(Lane::Tools))
        .backend(OperationsBackend::new(
            pool.clone(),
            Lane::Tools,
            serving.clone(),
            worker_id.clone(),
            notifier.subscribe(QUEUE_CHANNEL),
        ))
        .data(ctx.clone())
        .concurrency(config.worker.concurrency)
        .build(jobs::handle)
        .run_until(until_stopped(stop.clone()));
    // A start holds its slot only until the lease is active or failed.
    let lease_starts = WorkerBuilder::new(agent.apalis_name(Lane::Leases))
        .backend(OperationsBackend::new(
            pool.clone(),
            Lane::Leases,
            serving,
            worker_id,
            notifier.subscribe(QUEUE_CHANNEL),
        ))
        .data(leases.clone())
        .concurrency(config.worker.concurrency)
        .build(leases::handle)
        .run_until(until_stopped(stop.clone()));
    // Each lane on its own task: polled together, a wake-up of one would re-poll both.
    let (tools, lease_starts) =
        tokio::join!(tokio::spawn(tools.in_current_span()), tokio::spawn(lease_starts.in_current_span()));
    let tools = tools.context("the tools lane's task")?;
    let lease_starts = lease_starts.context("the leases lane's task")?;
    // apalis drained both lanes: every handler awaited its call's task, outcomes stored.
    stop.cancel();
    // Leases cannot outlive their owner: stop them before this incarnation goes offline.
    leases.shutdown().await;
    for l in lease_loops {
        let _ = l.await;
    }
    let _ = cancel_listener.await;
    let _ = depth.await;
    for identity in identities {
        let _ = identity.await;
    }
    beat_until.cancel();
    let declared_offline = heartbeat.await.unwrap_or(false);
    agent.deregister(&pool).await;
    tools.context("running the apalis worker (tools)")?;
    lease_starts.context("running the apalis worker (leases)")?;
    if declared_offline && !shutdown.is_cancelled() {
        anyhow::bail!("the reaper declared this worker offline (missed heartbeats); exiting so it can be restarted");
    }
    Ok(())
}

/// Resolves when `stopped` fires: a consumer's shutdown signal.
async fn until_stopped(stopped: CancellationToken) -> Result<(), std::io::Error> {
    stopped.cancelled().await;
    Ok(())
}
