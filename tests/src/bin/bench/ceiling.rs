//! `bench ceiling`: what this machine allows before the CLI — the database cycle of one call with a
//! no-op job, driven through the real `shared::db` functions and the real apalis worker on the
//! worker's own backend, at N concurrent loops; and the simulator's spawn rate at 1 and 2
//! concurrent spawns.
//!
//! One loop iteration is a call's database path: register for the completion NOTIFY, insert the
//! operation queued with its job (`db::queue::enqueue`, which NOTIFYs the lane), the worker's
//! backend claims it (`db::queue::claim`), a no-op handler finishes it (`db::operations::finish`,
//! which NOTIFYs), the loop wakes and reads the row back as the gateway does. Not included:
//! authentication, the in-flight cap, the rate-limit upsert, MCP over HTTP.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use apalis::prelude::*;
use mtcp_shared::db::{self, OPS_CHANNEL, operations, queue::Claimed, queue::Lane, queue::QUEUE_CHANNEL};
use mtcp_shared::domain::{Actor, ActorKind, AuthSource, OpId, OperationStatus, ToolJob, find_tool};
use mtcp_shared::policy::Decision;
use mtcp_tests::{Stack, StackOptions};
use sqlx::PgPool;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use super::{ms, percentile};

#[derive(clap::Args)]
pub struct CeilingArgs {
    /// Concurrent call loops per round.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4,8,16,32")]
    loops: Vec<usize>,
    /// Length of each round, seconds.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Jobs the no-op worker runs at once (as `worker.concurrency`).
    #[arg(long, default_value_t = 16)]
    worker_concurrency: usize,
    /// Simulator spawns per concurrency level.
    #[arg(long, default_value_t = 400)]
    spawns: usize,
}

type Waiters = Arc<Mutex<HashMap<OpId, oneshot::Sender<()>>>>;

struct NoopCtx {
    pool: PgPool,
    worker_id: String,
    finish: Mutex<Vec<Duration>>,
}

/// The worker's handler with the tool replaced by nothing: finish the claimed call with a small
/// result.
async fn noop(claimed: Claimed, ctx: Data<Arc<NoopCtx>>) -> Result<(), BoxDynError> {
    let ctx: Arc<NoopCtx> = (*ctx).clone();
    let job = claimed.job;
    tokio::spawn(async move {
        let out = operations::Outcome {
            status: OperationStatus::Succeeded,
            audit_refs: None,
            exit_code: Some(0),
            stdout: None,
            stderr: None,
            result: Some(serde_json::json!({ "nodes": [] })),
            error: None,
        };
        let t = Instant::now();
        operations::finish(&ctx.pool, job.op_id, &ctx.worker_id, &out, &[]).await?;
        ctx.finish.lock().unwrap().push(t.elapsed());
        Ok::<(), BoxDynError>(())
    })
    .await
    .map_err(|e| Box::new(e) as BoxDynError)?
}

/// The gateway's waiter in miniature: one LISTEN connection, a oneshot per op id.
async fn listen(pool: PgPool, waiters: Waiters, stop: CancellationToken) -> anyhow::Result<()> {
    let mut l = sqlx::postgres::PgListener::connect_with(&pool).await?;
    l.listen(OPS_CHANNEL).await?;
    loop {
        let n = tokio::select! {
            _ = stop.cancelled() => return Ok(()),
            n = l.recv() => n?,
        };
        if let Ok(id) = n.payload().parse::<OpId>()
            && let Some(tx) = waiters.lock().unwrap().remove(&id)
        {
            let _ = tx.send(());
        }
    }
}

/// Per-call timings of one loop: (total, enqueue transaction).
async fn call_loop(pool: PgPool, waiters: Waiters, deadline: Instant) -> anyhow::Result<Vec<(Duration, Duration)>> {
    let actor = Actor {
        id: "bench".into(),
        kind: ActorKind::Service,
        role: "admin".into(),
        source: AuthSource::ConfigApiKey,
        groups: vec![],
    };
    let decision = Decision { allow: true, reason: "bench".into(), constraints: None, policy_version: "bench".into() };
    let spec = find_tool("list_nodes").expect("list_nodes exists");
    let mut times = Vec::new();
    while Instant::now() < deadline {
        let t = Instant::now();
        let op_id = OpId::generate();
        let (tx, rx) = oneshot::channel();
        waiters.lock().unwrap().insert(op_id, tx);
        let op = operations::NewOperation {
            op_id,
            request_id: Some("1".into()),
            actor: &actor,
            capability: spec.capability,
            tool: spec.name,
            inputs: serde_json::json!({}),
            reason: None,
            ticket: None,
            decision: &decision,
        };
        let job = ToolJob {
            op_id,
            call: mtcp_shared::tools::ToolCall::ListNodes(mtcp_shared::tools::NoArgs {}),
            actor: actor.id.clone(),
            cluster: None,
            traceparent: None,
        };
        db::queue::enqueue(&pool, &op, &job).await?;
        let enqueued = t.elapsed();
        tokio::time::timeout(Duration::from_secs(30), rx).await??;
        // One read, as the gateway's waiter does.
        let row = operations::get_terminal(&pool, op_id).await?;
        anyhow::ensure!(row.is_some(), "woken before the end");
        times.push((t.elapsed(), enqueued));
    }
    Ok(times)
}

pub async fn run(args: CeilingArgs) -> anyhow::Result<()> {
    let opts = StackOptions { worker: false, ..Default::default() };
    let mut stack = Stack::start(opts).await?;
    spawn_rates(&stack, args.spawns)?;
    let pool =
        db::connect(&stack.db.url, (args.worker_concurrency as u32 + 8).max(16), Duration::from_secs(10)).await?;
    let loop_pool = db::connect(&stack.db.url, 40, Duration::from_secs(10)).await?;
    let agent = mtcp_worker::Agent::register(&pool, &["default".to_owned()]).await?;
    let stop = CancellationToken::new();
    let beat =
        tokio::spawn(agent.clone().heartbeat_loop(pool.clone(), Duration::from_secs(1), stop.clone(), stop.clone()));
    let ctx = Arc::new(NoopCtx { pool: pool.clone(), worker_id: agent.id.to_string(), finish: Mutex::default() });
    // The worker's queue exactly as `mtcp_worker::run` builds it.
    let notifier = mtcp_shared::notifier::Notifier::start(pool.clone(), &[QUEUE_CHANNEL], stop.clone());
    let backend = mtcp_worker::OperationsBackend::new(
        pool.clone(),
        Lane::Tools,
        mtcp_shared::db::queue::Serving { clusters: vec!["default".to_owned()], default: true },
        agent.id.to_string(),
        notifier.subscribe(QUEUE_CHANNEL),
    );
    let worker_stop = stop.clone();
    let worker = WorkerBuilder::new(agent.apalis_name(Lane::Tools))
        .backend(backend)
        .data(ctx.clone())
        .concurrency(args.worker_concurrency)
        .build(noop)
        .run_until(async move {
            worker_stop.cancelled().await;
            Ok::<(), std::io::Error>(())
        });
    let worker = tokio::spawn(worker);
    let waiters: Waiters = Arc::default();
    let listener = tokio::spawn(listen(loop_pool.clone(), waiters.clone(), stop.clone()));
    tokio::time::sleep(Duration::from_millis(500)).await;

    println!("\nDB cycle with a no-op job (worker concurrency {}):\n", args.worker_concurrency);
    println!("| loops | calls | calls/s | p50 ms | p99 ms | enqueue tx p50 ms | pickup p50 ms | pickup p99 ms |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for &n in &args.loops {
        // Warm-up, then the round.
        let warm = Instant::now() + Duration::from_millis(500);
        call_loop(loop_pool.clone(), waiters.clone(), warm).await?;
        let since: chrono::DateTime<chrono::Utc> = sqlx::query_scalar("SELECT now()").fetch_one(&pool).await?;
        let deadline = Instant::now() + Duration::from_secs_f64(args.seconds);
        let started = Instant::now();
        let tasks: Vec<_> =
            (0..n).map(|_| tokio::spawn(call_loop(loop_pool.clone(), waiters.clone(), deadline))).collect();
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await??);
        }
        let elapsed = started.elapsed();
        let (mut total, mut enq): (Vec<_>, Vec<_>) = all.into_iter().unzip();
        total.sort();
        enq.sort();
        let (p50, p99) = pickup(&pool, since).await?;
        println!(
            "| {n} | {} | {:.1} | {} | {} | {} | {p50:.2} | {p99:.2} |",
            total.len(),
            total.len() as f64 / elapsed.as_secs_f64(),
            ms(percentile(&total, 0.5)),
            ms(percentile(&total, 0.99)),
            ms(percentile(&enq, 0.5)),
        );
    }
    let mut finish = std::mem::take(&mut *ctx.finish.lock().unwrap());
    finish.sort();
    println!(
        "\nworker statements over all rounds: finish (+NOTIFY) p50 {} ms, p99 {} ms",
        ms(percentile(&finish, 0.5)),
        ms(percentile(&finish, 0.99)),
    );
    stop.cancel();
    let _ = worker.await;
    let _ = listener.await;
    let _ = beat.await;
    agent.deregister(&pool).await;
    stack.stop().await;
    Ok(())
}

/// Queue pickup (operation committed → claimed by the worker) of the operations created since
/// `since`: (p50, p99) in ms.
pub async fn pickup(pool: &PgPool, since: chrono::DateTime<chrono::Utc>) -> anyhow::Result<(f64, f64)> {
    Ok(sqlx::query_as(
        "SELECT coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM started_at - created_at)), 0) * 1000,
                coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM started_at - created_at)), 0) * 1000
         FROM operations WHERE created_at >= $1 AND started_at IS NOT NULL",
    )
    .bind(since)
    .fetch_one(pool)
    .await?)
}

/// Spawns/s of `tctl get nodes --format=json` at 1 and 2 concurrent spawners.
fn spawn_rates(stack: &Stack, spawns: usize) -> anyhow::Result<()> {
    println!("simulator `tctl get nodes --format=json` ({spawns} spawns per row):\n");
    println!("| concurrent | spawns/s | p50 ms | p99 ms |");
    println!("|---:|---:|---:|---:|");
    for conc in [1usize, 2] {
        let started = Instant::now();
        let times: Vec<Duration> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..conc).map(|_| s.spawn(|| super::simulator_times(stack, spawns / conc))).collect();
            handles.into_iter().flat_map(|h| h.join().expect("spawner")).collect()
        });
        let elapsed = started.elapsed();
        let mut times = times;
        times.sort();
        println!(
            "| {conc} | {:.1} | {} | {} |",
            times.len() as f64 / elapsed.as_secs_f64(),
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.99)),
        );
    }
    Ok(())
}
