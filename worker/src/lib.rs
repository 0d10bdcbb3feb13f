//! The worker: one process incarnation registered in `agents`, consuming the `tools` queue with
//! apalis (pub/sub wake-ups, bounded concurrency), running each tool once and storing its outcome,
//! and the `leases` queue, whose jobs start proxy leases this incarnation then owns.

mod agent;
mod cancels;
mod identity_watch;
mod jobs;
mod leases;
mod progress;
mod queue_depth;
mod supervise;
mod wakeup;

use std::sync::Arc;

use anyhow::Context;
use apalis::prelude::*;
use apalis_postgres::PostgresStorage;
use mtcp_shared::config::Config;
use mtcp_shared::db::{self, jobs::LEASES_QUEUE, jobs::TOOLS_QUEUE};
use mtcp_shared::domain::ToolJob;
use mtcp_shared::teleport::{Runner, RunnerSettings};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

pub use agent::Agent;
/// The queue's wake-ups, public so `bench ceiling` builds its no-op worker exactly like this one.
pub use wakeup::{ECHO_DELAYS, Resubscribing, WithEcho};

/// What every job handler needs.
pub(crate) struct JobContext {
    pool: sqlx::PgPool,
    runner: Runner,
    /// `operations.worker_id` of runs claimed by this incarnation.
    worker_id: String,
    /// Thresholds of `detect_audit_anomalies`.
    anomalies: mtcp_shared::config::AnomalyThresholds,
    /// Running jobs a caller may cancel.
    cancels: cancels::Cancels,
    /// The tasks of started jobs (a rebuilt queue consumer waits for its predecessor's).
    jobs: tokio_util::task::TaskTracker,
}

/// Build the CLI runner from the configuration, with a TELEPORT_HOME of this incarnation's own.
pub fn runner_settings(config: &Config, home_subdir: &str) -> RunnerSettings {
    let t = &config.teleport;
    RunnerSettings {
        tctl_path: t.tctl_path.clone(),
        tsh_path: config.tsh.tsh_path.clone(),
        proxy: t.proxy.clone(),
        identity_file: t.identity_file.clone(),
        home_dir: config.tsh.home.join(home_subdir),
        timeout: t.timeout,
        kill_grace: t.kill_grace,
        output_limit_bytes: t.output_limit_bytes,
        env: t.env.clone(),
        env_passthrough: t.env_passthrough.clone(),
    }
}

/// Run a worker until `shutdown` fires (or the reaper declares it offline).
pub async fn run(config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    let pool =
        db::connect(config.database_url()?, config.database.max_connections, config.database.connect_timeout).await?;
    db::ensure_migrated(&pool).await?;
    let agent = Agent::register(&pool).await.context("registering the worker in `agents`")?;
    // Every log line of this incarnation names it (a log-only span: it lasts as long as the process).
    let span = tracing::info_span!(target: mtcp_shared::telemetry::LOG_CONTEXT, "worker", agent_id = %agent.id);
    serve(config, shutdown, pool, agent).instrument(span).await
}

async fn serve(config: Config, shutdown: CancellationToken, pool: sqlx::PgPool, agent: Agent) -> anyhow::Result<()> {
    let runner =
        Runner::new(runner_settings(&config, &agent.id.to_string())).context("preparing the Teleport CLI runner")?;
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
    let identity = tokio::spawn(identity_watch::run(
        config.teleport.identity_file.clone(),
        config.worker.heartbeat_interval,
        stop.clone(),
    ));
    let leases = leases::LeaseManager::new(pool.clone(), runner.clone(), agent.clone(), config.leases.clone());
    match leases.kill_leftovers().await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(killed = n, "killed lease processes left by previous incarnations on this host"),
        Err(e) => tracing::warn!(error = %e, "could not look for lease processes of previous incarnations"),
    }
    let lease_loops = leases.spawn_loops(&stop);
    let ctx = Arc::new(JobContext {
        pool: pool.clone(),
        runner,
        worker_id: agent.id.to_string(),
        anomalies: config.audit.anomalies.clone(),
        cancels: cancels::Cancels::default(),
        jobs: tokio_util::task::TaskTracker::new(),
    });
    let cancel_listener = tokio::spawn(ctx.cancels.clone().listen(pool.clone(), stop.clone()));
    tracing::info!(concurrency = config.worker.concurrency, "worker started");
    let tools = {
        let (pool, config, agent, ctx, stop) = (pool.clone(), config.clone(), agent.clone(), ctx.clone(), stop.clone());
        let consumer =
            supervise::Consumer { queue: TOOLS_QUEUE, pool: pool.clone(), jobs: ctx.jobs.clone(), stop: stop.clone() };
        consumer.spawn(
            move |generation| agent.apalis_name(generation),
            move |name| {
                WorkerBuilder::new(name)
                    .backend(queue_backend(&pool, &config, TOOLS_QUEUE, config.worker.concurrency))
                    .data(ctx.clone())
                    .concurrency(config.worker.concurrency)
                    .build(jobs::handle)
                    .run_until(until_stopped(stop.clone()))
            },
        )
    };
    // A start holds its slot only until the lease is active or failed; one job per fetch, so
    // starts spread over the workers.
    let lease_starts = {
        let (pool, config, agent, leases, stop) =
            (pool.clone(), config.clone(), agent.clone(), leases.clone(), stop.clone());
        let jobs = leases.starts().clone();
        let consumer = supervise::Consumer { queue: LEASES_QUEUE, pool: pool.clone(), jobs, stop: stop.clone() };
        consumer.spawn(
            move |generation| agent.apalis_leases_name(generation),
            move |name| {
                WorkerBuilder::new(name)
                    .backend(queue_backend(&pool, &config, LEASES_QUEUE, 1))
                    .data(leases.clone())
                    .concurrency(config.worker.concurrency)
                    .build(leases::handle)
                    .run_until(until_stopped(stop.clone()))
            },
        )
    };
    let (tools, lease_starts) = tokio::join!(tools, lease_starts);
    let tools = tools.context("the tools consumer's task")?;
    let lease_starts = lease_starts.context("the leases consumer's task")?;
    stop.cancel();
    // Leases cannot outlive their owner: stop them before this incarnation goes offline.
    leases.shutdown().await;
    for l in lease_loops {
        let _ = l.await;
    }
    let _ = cancel_listener.await;
    let _ = depth.await;
    let _ = identity.await;
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

/// The apalis backend of one queue: its storage settings and our wake-ups.
fn queue_backend(
    pool: &sqlx::PgPool,
    config: &Config,
    name: &'static str,
    batch_size: usize,
) -> apalis::prelude::PollWith<
    PostgresStorage<ToolJob>,
    apalis::prelude::StreamStrategy<wakeup::WithEcho<wakeup::Resubscribing>>,
> {
    let storage = PostgresStorage::<ToolJob>::new(pool).with_config(
        apalis_postgres::Config::default()
            .queue(name)
            .batch_size(batch_size)
            .heartbeat_interval(config.worker.heartbeat_interval)
            .missed_heartbeats(apalis_missed_heartbeats(config)),
    );
    let wakeups = wakeup::WithEcho::new(wakeup::Resubscribing::new(pool.clone(), name), wakeup::ECHO_DELAYS);
    apalis::prelude::PollWith::new(storage, apalis::prelude::StreamStrategy::new(wakeups))
}

/// Resolves when `stopped` fires: a consumer's shutdown signal.
async fn until_stopped(stopped: CancellationToken) -> Result<(), std::io::Error> {
    stopped.cancelled().await;
    Ok(())
}

/// How many heartbeats apalis lets a worker miss before its own sweep (run by every consumer at
/// each heartbeat) re-enqueues that worker's jobs: enough for a day, which leaves recovery to the
/// reaper. apalis reads silence alone as death; after a database outage every consumer is silent,
/// and the first one back would hand the running jobs of live workers to others — a running
/// mutation would then be reported `outcome_unknown` while it runs. The reaper recovers dead
/// workers with the delivery rules (after a warm-up that lets live ones beat again), and a
/// consumer rebuilt after a failure releases what its predecessor held itself.
fn apalis_missed_heartbeats(config: &Config) -> usize {
    const LEFT_TO_THE_REAPER: u128 = 24 * 3600 * 1000;
    let beat_ms = config.worker.heartbeat_interval.as_millis().max(1);
    usize::try_from(LEFT_TO_THE_REAPER.div_ceil(beat_ms)).unwrap_or(usize::MAX).max(3)
}
