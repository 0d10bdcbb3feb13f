//! `bench workers`: what one more worker buys. For each worker count, a fresh database, one
//! gateway process, the simulator as Teleport and that many `mtcp-worker` processes (each its own
//! incarnation, pool and `worker.concurrency` slots); `--clients` MCP sessions call `list_nodes`
//! in a loop for `--seconds`. Reports calls/s, p50/p99 latency, the gain over the previous count
//! and how evenly the workers shared the calls (the share of the busiest and of the idlest).

use std::time::{Duration, Instant};

use mtcp_tests::process::ServiceProcess;
use mtcp_tests::{McpClient, Stack, StackOptions};

use super::{ms, percentile};

#[derive(clap::Args)]
pub struct WorkersArgs {
    /// Worker processes per round.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4")]
    workers: Vec<usize>,
    /// Concurrent MCP clients (each calls in a loop).
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// Length of each round.
    #[arg(long, value_parser = super::humantime_secs, default_value = "10")]
    seconds: Duration,
    /// `worker.concurrency` of each worker (the chart's default).
    #[arg(long, default_value_t = 8)]
    worker_concurrency: usize,
    /// Run the gateway and the workers as tasks of this process (StackOptions::workers) instead of
    /// separate processes.
    #[arg(long)]
    in_process: bool,
}

/// One round's numbers.
struct Round {
    calls: usize,
    errors: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    /// Calls run by the busiest and by the idlest worker.
    busiest: i64,
    idlest: i64,
}

pub async fn run(args: WorkersArgs) -> anyhow::Result<()> {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "list_nodes, {} clients, {} s per round, worker.concurrency {}, {}, {cores} cores\n",
        args.clients,
        args.seconds.as_secs_f64(),
        args.worker_concurrency,
        if args.in_process { "gateway and workers in this process" } else { "gateway and workers as processes" }
    );
    println!("| workers | calls | calls/s | vs previous | p50 ms | p99 ms | errors | busiest / idlest worker |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---|");
    let mut previous: Option<(usize, f64)> = None;
    let mut bend = None;
    for &n in &args.workers {
        let r = round(&args, n).await?;
        let rate = r.calls as f64 / r.elapsed.as_secs_f64();
        let gain = previous.map_or("—".to_owned(), |(_, p)| format!("×{:.2}", rate / p));
        // Where the curve bends: the first added workers that bought less than a quarter more.
        if let Some((before, p)) = previous
            && bend.is_none()
            && rate < 1.25 * p
        {
            bend = Some((before, n, rate / p));
        }
        let share = |c: i64| 100.0 * c as f64 / r.calls.max(1) as f64;
        println!(
            "| {n} | {} | {rate:.1} | {gain} | {} | {} | {} | {:.0} % / {:.0} % |",
            r.calls,
            ms(percentile(&r.latencies, 0.5)),
            ms(percentile(&r.latencies, 0.99)),
            r.errors,
            share(r.busiest),
            share(r.idlest),
        );
        previous = Some((n, rate));
    }
    match bend {
        Some((before, after, gain)) => {
            println!("\nthe curve bends after {before} worker(s): {after} bought only ×{gain:.2} the calls/s")
        }
        None => println!("\nno bend: every added worker bought at least a quarter more calls/s"),
    }
    Ok(())
}

/// A fresh stack with `n` workers, loaded for `args.seconds`.
async fn round(args: &WorkersArgs, n: usize) -> anyhow::Result<Round> {
    let concurrency = args.worker_concurrency;
    // Every call runs (no coalescing): what more workers buy is more runs.
    let tweak: mtcp_tests::Tweak = std::sync::Arc::new(move |c| {
        super::generous_limits(c);
        c.worker.concurrency = concurrency;
        c.coalescing.enabled = false;
    });
    let opts = StackOptions {
        worker: args.in_process,
        workers: n,
        worker_concurrency: concurrency,
        tweak: Some(tweak),
        ..Default::default()
    };
    let mut stack = Stack::start(opts).await?;
    let (gateway, workers, url) = if args.in_process {
        (None, Vec::new(), stack.url.clone())
    } else {
        let config = super::memory::services_config(&stack)?;
        let gateway = ServiceProcess::gateway(&config, mtcp_tests::process::free_port()).await?;
        let workers = (0..n).map(|_| super::memory::spawn_worker(&config)).collect::<Result<Vec<_>, _>>()?;
        let url = gateway.url();
        (Some(gateway), workers, url)
    };
    wait_for_workers(&stack, n).await?;
    let key = stack.key("admin").to_owned();
    let mut clients = Vec::new();
    for _ in 0..args.clients {
        clients.push(McpClient::connect(&url, Some(&key)).await?);
    }
    // Warm-up: one call per client; then count only what the round runs.
    for c in &clients {
        c.call("list_nodes", serde_json::json!({})).await?;
    }
    let since: chrono::DateTime<chrono::Utc> = sqlx::query_scalar("SELECT now()").fetch_one(&stack.db.pool).await?;
    let deadline = Instant::now() + args.seconds;
    let started = Instant::now();
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|c| {
            tokio::spawn(async move {
                let (mut lat, mut errors) = (Vec::new(), 0usize);
                while Instant::now() < deadline {
                    let t = Instant::now();
                    match c.call("list_nodes", serde_json::json!({})).await {
                        Ok(r) if r.is_error != Some(true) => lat.push(t.elapsed()),
                        _ => errors += 1,
                    }
                }
                c.close().await;
                (lat, errors)
            })
        })
        .collect();
    let (mut latencies, mut errors) = (Vec::new(), 0);
    for t in tasks {
        let (lat, e) = t.await?;
        latencies.extend(lat);
        errors += e;
    }
    let elapsed = started.elapsed();
    latencies.sort();
    // Calls per worker incarnation in this round (every worker, even one that ran none).
    let per_worker: Vec<i64> = sqlx::query_scalar(
        "SELECT count(o.op_id) FROM agents a
         LEFT JOIN operations o ON o.worker_id = a.agent_id::text AND o.created_at >= $1 AND o.status = 'succeeded'
         WHERE a.kind = 'worker' GROUP BY a.agent_id",
    )
    .bind(since)
    .fetch_all(&stack.db.pool)
    .await?;
    drop(workers);
    drop(gateway);
    stack.stop().await;
    Ok(Round {
        calls: latencies.len(),
        errors,
        elapsed,
        latencies,
        busiest: per_worker.iter().copied().max().unwrap_or(0),
        idlest: per_worker.iter().copied().min().unwrap_or(0),
    })
}

/// Until `n` workers heartbeat (each registers once its pool and lanes are up).
async fn wait_for_workers(stack: &Stack, n: usize) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let online: i64 = sqlx::query_scalar("SELECT count(*) FROM agents WHERE kind = 'worker' AND status = 'online'")
            .fetch_one(&stack.db.pool)
            .await?;
        if online as usize >= n {
            return Ok(());
        }
        anyhow::ensure!(Instant::now() < deadline, "{online} of {n} workers came online in 30 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
