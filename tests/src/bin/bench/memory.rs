//! `bench memory`: resident memory (VmRSS, VmHWM from /proc/<pid>/status) of a separate gateway
//! process and worker process, idle and with N MCP calls held open at once (the simulator sleeps
//! in each run, so every call stays in flight: an open SSE stream on the gateway, a running job
//! and a child process on the worker).

use std::collections::BTreeMap;
use std::process::Child;
use std::time::{Duration, Instant};

use mtcp_tests::process::{ServiceProcess, free_port};
use mtcp_tests::{McpClient, Stack, StackOptions};

#[derive(clap::Args)]
pub struct MemoryArgs {
    /// Calls held open at once.
    #[arg(long, default_value_t = 1000)]
    streams: usize,
    /// MCP sessions the calls are spread over.
    #[arg(long, default_value_t = 100)]
    clients: usize,
    /// How long the simulator sleeps in each call, ms.
    #[arg(long, default_value_t = 30_000)]
    delay_ms: u64,
    /// Database pool of each service process.
    #[arg(long, default_value_t = 30)]
    pool: u32,
}

/// Kills the worker process when dropped (also `bench workers`').
pub(crate) struct Worker(pub(crate) Child);

/// The stack's configuration as a file for service processes of their own (its database named
/// in it, not in the environment).
pub(crate) fn services_config(stack: &mtcp_tests::Stack) -> anyhow::Result<std::path::PathBuf> {
    let config = stack.dir.path().join("services.yaml");
    let mut yaml = serde_yaml::to_value(&stack.config)?;
    yaml["database"]["url"] = serde_yaml::Value::String(stack.db.url.clone());
    std::fs::write(&config, serde_yaml::to_string(&yaml)?)?;
    Ok(config)
}

/// A worker process on `config`, quiet, with a listener port of its own.
pub(crate) fn spawn_worker(config: &std::path::Path) -> std::io::Result<Worker> {
    mtcp_tests::process::worker_command(config).spawn().map(Worker)
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// (VmRSS, VmHWM) of `pid` in MiB.
fn rss(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (kb("VmRSS:") / 1024.0, kb("VmHWM:") / 1024.0)
}

fn report(label: &str, gateway: u32, worker: u32) {
    let (g, gh) = rss(gateway);
    let (w, wh) = rss(worker);
    println!("| {label} | {g:.1} | {gh:.1} | {w:.1} | {wh:.1} |");
}

pub async fn run(args: MemoryArgs) -> anyhow::Result<()> {
    let sim_env = BTreeMap::from([("TELEPORT_SIM_DELAY_MS".to_owned(), args.delay_ms.to_string())]);
    let (streams, pool) = (args.streams, args.pool);
    let budget = Duration::from_millis(args.delay_ms) * 3;
    let tweak: mtcp_tests::Tweak = std::sync::Arc::new(move |c| {
        c.policy.rate_limit_per_minute = 100_000_000;
        // Every stream is admin's: one actor fills the worker here on purpose.
        c.policy.max_in_flight_calls_per_actor = 100_000_000;
        c.worker.concurrency = streams;
        c.database.max_connections = pool;
        c.service.call_budget = budget;
        c.teleport.timeout = budget;
        // Each held call waits on its own run, as before coalescing.
        c.coalescing.enabled = false;
    });
    let opts = StackOptions { worker: false, sim_env, tweak: Some(tweak), call_budget: budget, ..Default::default() };
    let mut stack = Stack::start(opts).await?;
    let config = services_config(&stack)?;
    let gateway = ServiceProcess::gateway(&config, free_port()).await?;
    let worker = spawn_worker(&config)?;
    let (gpid, wpid) = (gateway.child.id(), worker.0.id());
    let key = stack.key("admin").to_owned();
    tokio::time::sleep(Duration::from_secs(2)).await;
    println!(
        "worker.concurrency {streams}, database.max_connections {pool} per process, simulator delay {} ms\n",
        args.delay_ms
    );
    println!("| state | gateway RSS MiB | gateway peak MiB | worker RSS MiB | worker peak MiB |");
    println!("|---|---:|---:|---:|---:|");
    report("idle, after start", gpid, wpid);

    let mut clients = Vec::new();
    for _ in 0..args.clients {
        clients.push(std::sync::Arc::new(McpClient::connect(&gateway.url(), Some(&key)).await?));
    }
    report(&format!("idle, {} sessions open", args.clients), gpid, wpid);
    let started = Instant::now();
    let calls: Vec<_> = (0..streams)
        .map(|i| {
            let c = clients[i % clients.len()].clone();
            tokio::spawn(async move { c.call("list_nodes", serde_json::json!({})).await })
        })
        .collect();
    // Wait until every call is running on the worker (its simulator asleep).
    let mut running = 0i64;
    while started.elapsed() < Duration::from_millis(args.delay_ms) {
        running = sqlx::query_scalar("SELECT count(*) FROM operations WHERE status = 'running'")
            .fetch_one(&stack.db.pool)
            .await?;
        if running as usize >= streams {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ramp = started.elapsed();
    report(&format!("{streams} calls open ({running} running after {:.1} s)", ramp.as_secs_f64()), gpid, wpid);
    let mut ok = 0;
    for c in calls {
        if c.await?.is_ok_and(|r| r.is_error != Some(true)) {
            ok += 1;
        }
    }
    println!("\n{ok}/{streams} calls succeeded in {:.1} s", started.elapsed().as_secs_f64());
    report("after the calls", gpid, wpid);
    drop(clients);
    drop(worker);
    drop(gateway);
    stack.stop().await;
    Ok(())
}
