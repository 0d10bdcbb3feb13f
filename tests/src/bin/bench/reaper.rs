//! `bench reaper`: the reaper's sweeps (`Reaper::run_once`) over a large lease table on a fresh
//! database — idle, all leases expired, all owners lost, in-flight jobs of dead workers, and
//! retention — each sweep timed.

use std::time::{Duration, Instant};

use chrono::Utc;
use mtcp_reaper::{Reaper, SWEEP_LIMIT, SweepReport};
use mtcp_shared::config::ReaperConfig;
use mtcp_tests::TestDb;
use sqlx::PgPool;

/// Sizes of the seeded database.
#[derive(clap::Args)]
pub struct ReaperArgs {
    /// Active leases (each with its `start_proxy` operation), spread over the online workers.
    #[arg(long, default_value_t = 10_000)]
    leases: i64,
    /// Online worker incarnations.
    #[arg(long, default_value_t = 100)]
    online_agents: i64,
    /// Offline worker incarnations (history).
    #[arg(long, default_value_t = 20)]
    offline_agents: i64,
    /// Finished operations (history within retention).
    #[arg(long, default_value_t = 100_000)]
    history: i64,
    /// In-flight operations (half mutations, half reads) on workers that die, for the recovery round.
    #[arg(long, default_value_t = 2_000)]
    in_flight: i64,
    /// Log lines per lease (the owner's output), and one progress event per finished operation.
    #[arg(long, default_value_t = 20)]
    log_lines: i64,
    /// Idle sweeps to time.
    #[arg(long, default_value_t = 20)]
    idle_sweeps: usize,
    /// Seed, then leave the database in place and print its name (to look at plans with EXPLAIN).
    #[arg(long)]
    seed_only: bool,
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

async fn exec(pool: &PgPool, sql: &'static str) -> anyhow::Result<u64> {
    Ok(sqlx::query(sql).execute(pool).await?.rows_affected())
}

/// Steady state after a bulk change, as autovacuum would leave it: the timings are of the sweeps,
/// not of dead tuples left by the set-up.
async fn settle(pool: &PgPool) -> anyhow::Result<()> {
    for t in ["agents", "operations", "operation_events", "leases", "lease_logs"] {
        sqlx::query(sqlx::AssertSqlSafe(format!("VACUUM ANALYZE {t}"))).execute(pool).await?;
    }
    Ok(())
}

/// Sweep at `now` until `acted(report)` is zero. Prints one row per sweep (when there are at most
/// 20) and a summary row.
async fn drain(
    reaper: &Reaper,
    label: &str,
    now: impl Fn() -> chrono::DateTime<Utc>,
    acted: impl Fn(&SweepReport) -> u64,
) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    loop {
        let t = Instant::now();
        let report = reaper.run_once(now()).await?;
        let took = t.elapsed();
        let n = acted(&report);
        rows.push((n, took));
        if n == 0 {
            break;
        }
        anyhow::ensure!(rows.len() < 10_000, "{label}: the sweeps never finish");
    }
    if rows.len() <= 20 {
        for (i, (n, took)) in rows.iter().enumerate() {
            println!("| {label} | {} | {n} | {} |", i + 1, ms(*took));
        }
    }
    let total: u64 = rows.iter().map(|(n, _)| n).sum();
    let mut times: Vec<Duration> = rows.iter().map(|(_, t)| *t).collect();
    let sum: Duration = times.iter().sum();
    times.sort();
    println!(
        "| **{label}** | **{} sweeps** | **{total}** | **{} total; per sweep p50 {}, max {}** |",
        rows.len(),
        ms(sum),
        ms(times[times.len() / 2]),
        ms(times[times.len() - 1])
    );
    Ok(())
}

async fn seed(pool: &PgPool, a: &ReaperArgs) -> anyhow::Result<()> {
    let t = Instant::now();
    sqlx::query(
        "INSERT INTO agents (agent_id, kind, host, boot_id, pid, version, status, offline_at, last_heartbeat_at)
         SELECT gen_random_uuid(), 'worker', 'bench-host-' || g, 'boot', 1000 + g, 'bench',
                CASE WHEN g <= $1 THEN 'online' ELSE 'offline' END,
                CASE WHEN g > $1 THEN now() - interval '1 day' END,
                CASE WHEN g <= $1 THEN now() ELSE now() - interval '1 day' END
         FROM generate_series(1, $1 + $2) g",
    )
    .bind(a.online_agents)
    .bind(a.offline_agents)
    .execute(pool)
    .await?;
    // The leases and their start operations, round-robin over the online workers, in one
    // statement (the operations are inserted by a data-modifying CTE).
    sqlx::query(
        "WITH owners AS (
            SELECT agent_id, host, row_number() OVER (ORDER BY agent_id) - 1 AS i FROM agents WHERE status = 'online'),
         src AS (
            SELECT g, gen_random_uuid() AS op_id, gen_random_uuid() AS lease_id, o.agent_id, o.host
            FROM generate_series(0, $1 - 1) g JOIN owners o ON o.i = g % $2),
         ops AS (
            INSERT INTO operations (op_id, actor, actor_role, capability, tool, decision, status, attempt, worker_id,
                                    created_at, started_at, ended_at, result)
            SELECT op_id, 'user' || (g % 500), 'operator', 'proxy.start', 'start_proxy', '{}', 'succeeded', 1,
                   agent_id::text, now() - interval '2 hours', now() - interval '2 hours',
                   now() - interval '2 hours', '{}'
            FROM src)
         INSERT INTO leases (lease_id, op_id, kind, actor, target, listen_addr, agent_id, host, pid, pid_start_time,
                             created_at, expires_at, status, last_heartbeat_at)
         SELECT lease_id, op_id, 'proxy_db', 'user' || (g % 500), '{\"db\":\"orders\"}', '127.0.0.1:' || (20000 + g % 40000),
                agent_id, host, 10000 + g, 1, now() - interval '2 hours', now() + interval '1 hour', 'active', now()
         FROM src",
    )
    .bind(a.leases)
    .bind(a.online_agents)
    .execute(pool)
    .await?;
    // Finished tool calls of the last day (what a busy control plane keeps).
    sqlx::query(
        "WITH src AS (
            SELECT g, gen_random_uuid() AS op_id, now() - (g % 86400) * interval '1 second' AS at
            FROM generate_series(1, $1) g)
         INSERT INTO operations (op_id, actor, actor_role, capability, tool, decision, status, attempt, worker_id,
                                 created_at, started_at, ended_at, result, lane, mutating, run_after, max_attempts)
         SELECT op_id, 'user' || (g % 500), 'operator', 'inventory.nodes', 'list_nodes', '{}', 'succeeded', 1,
                'bench', at, at, at + interval '10 ms', '{}', 'tools', false, at, 3 FROM src",
    )
    .bind(a.history)
    .execute(pool)
    .await?;
    sqlx::query(
        "INSERT INTO lease_logs (lease_id, at, stream, line)
         SELECT l.lease_id, l.created_at + s * interval '1 second', 'stderr', 'bench output line ' || s
         FROM leases l, generate_series(0, $1 - 1) s ORDER BY s",
    )
    .bind(a.log_lines)
    .execute(pool)
    .await?;
    exec(
        pool,
        "INSERT INTO operation_events (op_id, seq, at, kind, payload)
         SELECT op_id, 0, started_at, 'progress', '{\"step\": 1}' FROM operations WHERE tool = 'list_nodes'",
    )
    .await?;
    settle(pool).await?;
    println!(
        "seeded {} agents ({} online), {} active leases with their start operations and {} log lines each, \
         {} finished operations with a progress event, in {:.1} s\n",
        a.online_agents + a.offline_agents,
        a.online_agents,
        a.leases,
        a.log_lines,
        a.history,
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Run the reaper rounds.
pub async fn run(a: ReaperArgs) -> anyhow::Result<()> {
    let db = TestDb::new().await?;
    let pool = &db.pool;
    seed(pool, &a).await?;
    if a.seed_only {
        println!("database {} left in place; drop it when done", db.name);
        std::mem::forget(db);
        return Ok(());
    }
    let reaper = Reaper::new(pool.clone(), ReaperConfig::default(), Duration::from_secs(90 * 24 * 3600));
    println!("SWEEP_LIMIT {SWEEP_LIMIT}; each row is one `run_once(now)` (every rule, one connection)\n");
    println!("| round | sweep | rows acted on | ms |");
    println!("|---|---:|---:|---:|");

    // (a) Nothing to do: every lease active and within its TTL, every owner heart-beating.
    exec(pool, "UPDATE agents SET last_heartbeat_at = now() WHERE status = 'online'").await?;
    let mut idle = Vec::new();
    for _ in 0..a.idle_sweeps {
        let t = Instant::now();
        let r = reaper.run_once(Utc::now()).await?;
        idle.push(t.elapsed());
        anyhow::ensure!(r == SweepReport::default(), "an idle sweep acted: {r:?}");
    }
    idle.sort();
    let at = |p: f64| ms(idle[((idle.len() - 1) as f64 * p).round() as usize]);
    println!(
        "| **(a) idle** | **{} sweeps** | **0** | **p50 {}, p95 {}, max {}** |",
        idle.len(),
        at(0.5),
        at(0.95),
        at(1.0)
    );

    // (b) Every lease past its expiry at once.
    exec(pool, "UPDATE leases SET expires_at = now() - interval '1 minute'").await?;
    exec(pool, "UPDATE agents SET last_heartbeat_at = now() WHERE status = 'online'").await?;
    settle(pool).await?;
    drain(&reaper, "(b) expiry", Utc::now, |r| r.leases_expired as u64).await?;

    // (c) Every owner stops heart-beating at once: the first sweep marks them offline, then their
    // leases fail owner_lost. The leases are live again first (as if the owners had not acted on
    // the expiry yet: `stopping` counts as live too, so reset them to `active`).
    exec(pool, "UPDATE leases SET status = 'active', stop_reason = NULL, expires_at = now() + interval '1 hour'")
        .await?;
    exec(pool, "UPDATE agents SET last_heartbeat_at = now() - interval '1 hour' WHERE status = 'online'").await?;
    settle(pool).await?;
    drain(&reaper, "(c) owner lost", Utc::now, |r| (r.leases_owner_lost + r.agents_marked_offline) as u64).await?;

    // (d) In-flight jobs of those dead workers: half mutations (end outcome_unknown), half reads
    // (back to the queue).
    sqlx::query(
        "WITH owners AS (
            SELECT agent_id, row_number() OVER (ORDER BY agent_id) - 1 AS i FROM agents
            WHERE host LIKE 'bench-host-%' AND pid <= 1000 + $2),
         src AS (
            SELECT g, gen_random_uuid() AS op_id, o.agent_id,
                   CASE WHEN g % 2 = 0 THEN 'create_access_request' ELSE 'list_nodes' END AS tool
            FROM generate_series(0, $1 - 1) g JOIN owners o ON o.i = g % $2),
         INSERT INTO operations (op_id, actor, actor_role, capability, tool, decision, status, attempt, worker_id,
                                 created_at, started_at, lane, payload, mutating, run_after, max_attempts)
         SELECT op_id, 'alice', 'operator', 'bench', tool, '{}', 'running', 1, agent_id::text, now(), now(),
                'tools', jsonb_build_object('op_id', op_id, 'tool', tool, 'args', '{}'::jsonb, 'actor', 'alice'),
                g % 2 = 0, now(), CASE WHEN g % 2 = 0 THEN 1 ELSE 3 END
         FROM src",
    )
    .bind(a.in_flight)
    .bind(a.online_agents)
    .execute(pool)
    .await?;
    settle(pool).await?;
    drain(&reaper, "(d) recovery", Utc::now, |r| (r.ops_outcome_unknown + r.jobs_requeued) as u64).await?;

    // (e) Retention, 100 days later: the ended leases (with their log lines), the finished
    // operations (with their events).
    let later = Utc::now() + chrono::Duration::days(100);
    drain(&reaper, "(e) retention", || later, |r| r.leases_deleted + r.operations_deleted).await?;
    Ok(())
}
