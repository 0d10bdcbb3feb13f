//! `bench`: end-to-end `tools/call list_nodes` latency and throughput at several client counts,
//! next to the simulator's own run time for the same command; `bench ceiling` measures what the
//! machine allows (the database cycle with a no-op job, the simulator's spawn rate); `bench memory`
//! the services' RSS idle and with many calls open; `bench reaper` the reaper's sweeps over a large
//! lease table; `bench limit` the machine's limit with none of our code (a bare Postgres queue
//! cycle, the simulator's spawn rate); `bench compare` this system next to what a user would run
//! instead (a FastMCP server, inline and with Postgres) and next to that limit, in one run; `bench
//! leases` proxy leases on a worker, on an edge agent and behind an approval; `bench reach`
//! discovery and an access request's blast radius next to the `tctl` reads behind them; `bench
//! console` console pages next to the tool calls and the query behind them. Needs
//! DATABASE_URL (a server the benchmark may create a
//! database on) and release binaries (`cargo build --release --bins`).

#[path = "bench/ceiling.rs"]
mod ceiling;
#[path = "bench/compare.rs"]
mod compare;
#[path = "bench/console.rs"]
mod console;
#[path = "bench/http_load.rs"]
mod http_load;
#[path = "bench/leases.rs"]
mod leases;
#[path = "bench/limit.rs"]
mod limit;
#[path = "bench/memory.rs"]
mod memory;
#[path = "bench/peer.rs"]
mod peer;
#[path = "bench/reach.rs"]
mod reach;
#[path = "bench/reaper.rs"]
mod reaper;
#[path = "bench/trail.rs"]
mod trail;
#[path = "bench/workers.rs"]
mod workers;

use std::time::{Duration, Instant};

use clap::Parser;
use mtcp_tests::{McpClient, Stack, StackOptions};

#[derive(Parser)]
#[command(about = "End-to-end benchmark of the control plane")]
struct Args {
    /// Another benchmark instead of the end-to-end calls.
    #[command(subcommand)]
    mode: Option<Mode>,
    /// Concurrent MCP clients per round.
    #[arg(long, value_delimiter = ',', default_value = "1,8,32")]
    clients: Vec<usize>,
    /// Length of each round.
    #[arg(long, value_parser = humantime_secs, default_value = "10")]
    seconds: Duration,
    /// Jobs the worker runs at once.
    #[arg(long, default_value_t = 16)]
    worker_concurrency: usize,
    /// Also load this many audit events (spread over 72 hours) and time search_audit(24) and
    /// detect_audit_anomalies(24) over them (0: skip).
    #[arg(long, default_value_t = 0)]
    audit_events: u64,
    /// Print the phases of the N slowest calls of each round (stderr).
    #[arg(long, default_value_t = 0)]
    worst: usize,
    /// Tool to call.
    #[arg(long, default_value = "list_nodes")]
    tool: String,
    /// Let identical concurrent reads share a run (off: every call runs, as before coalescing).
    #[arg(long)]
    coalesce: bool,
}

#[derive(clap::Subcommand)]
enum Mode {
    /// The reaper's sweeps (`run_once`) over a large lease table on a fresh database.
    Reaper(reaper::ReaperArgs),
    /// The ceiling: the database cycle of a call with a no-op job, and the simulator's spawn rate.
    Ceiling(ceiling::CeilingArgs),
    /// Gateway and worker RSS (separate processes), idle and with many calls held open.
    Memory(memory::MemoryArgs),
    /// list_nodes calls/s and latency with 1, 2, 4… worker processes behind one gateway.
    Workers(workers::WorkersArgs),
    /// list_nodes on an empty operations table, then with a million finished operations in it.
    Trail(trail::TrailArgs),
    /// The machine's limit with none of our code: a bare SKIP LOCKED queue cycle, the simulator's
    /// spawn rate, and both on one CPU budget.
    Limit(limit::LimitArgs),
    /// Proxy leases: start and stop on a worker and on an edge agent, and what an approval adds.
    Leases(leases::LeasesArgs),
    /// Discovery and blast radius, next to the `tctl` reads a user would run by hand.
    Reach(reach::ReachArgs),
    /// Console pages next to the same tool calls and the query an auditor would run by hand.
    Console(console::ConsoleArgs),
    /// One run: the machine's limit, a FastMCP peer (inline, and with Postgres), and this system
    /// (kept-alive HTTP and rmcp clients, coalescing off and on), side by side.
    Compare(compare::CompareArgs),
}

/// Limits high enough never to refuse (every client is admin), so every call still pays for the
/// rate-limit check and the in-flight count.
fn generous_limits(c: &mut mtcp_shared::config::Config) {
    c.policy.rate_limit_per_minute = 100_000_000;
    c.policy.max_in_flight_calls_per_actor = 100_000_000;
}

fn humantime_secs(s: &str) -> Result<Duration, String> {
    s.parse::<f64>().map(Duration::from_secs_f64).map_err(|e| e.to_string())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

/// Run the simulator's `tctl get nodes` directly, as the worker would, `n` times.
fn simulator_times(stack: &Stack, n: usize) -> Vec<Duration> {
    sim_times(&stack.config.teleport, n)
}

/// [`simulator_times`] for the simulator `t` names, stack or not; sorted.
fn sim_times(t: &mtcp_shared::config::TeleportConfig, n: usize) -> Vec<Duration> {
    let mut times: Vec<Duration> = (0..n)
        .map(|_| {
            let start = Instant::now();
            let out = std::process::Command::new(&t.tctl_path)
                .arg("--auth-server")
                .arg(t.proxy.as_deref().unwrap_or_default())
                .arg("-i")
                .arg(t.identity_file.as_ref().unwrap())
                .args(["get", "nodes", "--format=json"])
                .output()
                .expect("running the simulator");
            assert!(out.status.success(), "simulator failed: {}", String::from_utf8_lossy(&out.stderr));
            start.elapsed()
        })
        .collect();
    times.sort();
    times
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    match args.mode {
        Some(Mode::Reaper(a)) => return reaper::run(a).await,
        Some(Mode::Ceiling(a)) => return ceiling::run(a).await,
        Some(Mode::Memory(a)) => return memory::run(a).await,
        Some(Mode::Workers(a)) => return workers::run(a).await,
        Some(Mode::Trail(a)) => return trail::run(a).await,
        Some(Mode::Limit(a)) => return limit::run(a).await,
        Some(Mode::Compare(a)) => return compare::run(a).await,
        Some(Mode::Leases(a)) => return leases::run(a).await,
        Some(Mode::Reach(a)) => return reach::run(a).await,
        Some(Mode::Console(a)) => return console::run(a).await,
        None => {}
    }
    let coalesce = args.coalesce;
    let tweak: mtcp_tests::Tweak = std::sync::Arc::new(move |c| {
        generous_limits(c);
        c.coalescing.enabled = coalesce;
    });
    let opts = StackOptions { worker_concurrency: args.worker_concurrency, tweak: Some(tweak), ..Default::default() };
    let mut stack = Stack::start(opts).await?;
    let key = stack.key("admin").to_owned();

    let sim = simulator_times(&stack, 200);
    println!(
        "simulator `tctl get nodes --format=json` alone: p50 {} ms, p95 {} ms, p99 {} ms (200 sequential runs)",
        ms(percentile(&sim, 0.5)),
        ms(percentile(&sim, 0.95)),
        ms(percentile(&sim, 0.99))
    );
    println!("\n| clients | calls | calls/s | p50 ms | p95 ms | p99 ms | errors | pickup p50 ms | pickup p99 ms |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for &n in &args.clients {
        let RmcpRound { mut with_ids, errors, elapsed, since } =
            rmcp_round(&stack, &key, &args.tool, n, args.seconds).await?;
        with_ids.sort();
        let all: Vec<Duration> = with_ids.iter().map(|(d, _)| *d).collect();
        if args.worst > 0 {
            for (d, id) in with_ids.iter().rev().take(args.worst) {
                let phases: Option<(f64, f64)> = sqlx::query_as(
                    "SELECT (extract(epoch FROM started_at - created_at) * 1000)::float8, (extract(epoch FROM ended_at - started_at) * 1000)::float8
                     FROM operations WHERE op_id = $1",
                )
                .bind(id)
                .fetch_optional(&stack.db.pool)
                .await?;
                eprintln!("slow call {} ms: (queue, run) ms {phases:?}", ms(*d));
            }
        }
        let (pickup50, pickup99) = ceiling::pickup(&stack.db.pool, since).await?;
        println!(
            "| {n} | {} | {:.1} | {} | {} | {} | {errors} | {pickup50:.2} | {pickup99:.2} |",
            all.len(),
            all.len() as f64 / elapsed.as_secs_f64(),
            ms(percentile(&all, 0.5)),
            ms(percentile(&all, 0.95)),
            ms(percentile(&all, 0.99)),
        );
    }
    let phases: (f64, f64, f64, f64) = sqlx::query_as(
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM started_at - created_at)) * 1000,
                percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM started_at - created_at)) * 1000,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM ended_at - started_at)) * 1000,
                percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM ended_at - started_at)) * 1000
         FROM operations WHERE status = 'succeeded' AND started_at IS NOT NULL",
    )
    .fetch_one(&stack.db.pool)
    .await?;
    println!(
        "\nall rounds, from the operations table: queue wait (created → started) p50 {:.2} ms, p99 {:.2} ms; \
         worker run (started → ended) p50 {:.2} ms, p99 {:.2} ms",
        phases.0, phases.1, phases.2, phases.3
    );
    if args.audit_events > 0 {
        audit_rounds(&stack, &key, args.audit_events).await?;
    }
    stack.stop().await;
    Ok(())
}

/// One round of the end-to-end benchmark: `n` rmcp clients (one session each), one warm-up call
/// each, then closed loops calling `tool` for `seconds`.
pub struct RmcpRound {
    /// Latency of each successful call with its operation id.
    pub with_ids: Vec<(Duration, Option<uuid::Uuid>)>,
    pub errors: usize,
    pub elapsed: Duration,
    /// The database's clock after the warm-up (the round's operations were created since).
    pub since: chrono::DateTime<chrono::Utc>,
}

pub async fn rmcp_round(
    stack: &Stack,
    key: &str,
    tool: &str,
    n: usize,
    seconds: Duration,
) -> anyhow::Result<RmcpRound> {
    let mut clients = Vec::new();
    for _ in 0..n {
        clients.push(McpClient::connect(&stack.url, Some(key)).await?);
    }
    // Warm-up: one call per client.
    for c in &clients {
        c.call(tool, serde_json::json!({})).await?;
    }
    let since: chrono::DateTime<chrono::Utc> = sqlx::query_scalar("SELECT now()").fetch_one(&stack.db.pool).await?;
    let deadline = Instant::now() + seconds;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in clients {
        let tool = tool.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0usize;
            while Instant::now() < deadline {
                let t = Instant::now();
                match c.call(&tool, serde_json::json!({})).await {
                    Ok(r) if r.is_error != Some(true) => {
                        let id = r
                            .meta
                            .as_ref()
                            .and_then(|m| m.0.get("mtcp/op_id"))
                            .and_then(|v| v.as_str())
                            .and_then(|s| s.parse::<uuid::Uuid>().ok());
                        lat.push((t.elapsed(), id))
                    }
                    _ => errors += 1,
                }
            }
            c.close().await;
            (lat, errors)
        }));
    }
    let mut with_ids = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (lat, e) = t.await?;
        with_ids.extend(lat);
        errors += e;
    }
    let elapsed = started.elapsed();
    Ok(RmcpRound { with_ids, errors, elapsed, since })
}

/// Load `n` synthetic audit events with one set-based INSERT, then time the audit tools end to end.
async fn audit_rounds(stack: &Stack, key: &str, n: u64) -> anyhow::Result<()> {
    let load = Instant::now();
    sqlx::query(
        "INSERT INTO audit_events (uid, time, event, code, \"user\", success, remote_addr, cluster, raw)
         SELECT 'bench-' || g, now() - random() * interval '72 hours',
                (ARRAY['user.login','session.start','session.end','exec','cert.create','auth'])[1 + g % 6], 'T0000I',
                'user' || (g % 500), (g % 17) <> 0, '10.0.' || (g % 250) || '.' || (g % 200) || ':3022',
                'teleport.example.com', jsonb_build_object('uid', 'bench-' || g)
         FROM generate_series(1, $1::bigint) g",
    )
    .bind(n as i64)
    .execute(&stack.db.pool)
    .await?;
    sqlx::query("ANALYZE audit_events").execute(&stack.db.pool).await?;
    println!("\naudit: {n} events loaded in {:.1} s (one INSERT … SELECT, plus ANALYZE)", load.elapsed().as_secs_f64());
    let client = McpClient::connect(&stack.url, Some(key)).await?;
    for tool in ["search_audit", "detect_audit_anomalies"] {
        let mut times = Vec::new();
        for _ in 0..3 {
            let t = Instant::now();
            let r = client.call(tool, serde_json::json!({ "hours": 24 })).await?;
            anyhow::ensure!(r.is_error != Some(true), "{tool} failed: {:?}", r.content);
            times.push(t.elapsed());
        }
        times.sort();
        println!("audit: {tool}(24) over {n} events: {} ms median of 3 (end to end, through MCP)", ms(times[1]));
    }
    client.close().await;
    Ok(())
}
