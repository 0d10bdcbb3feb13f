//! `bench limit`: what this machine allows for a call, measured without any of our code.
//!
//! (a) The bare queue cycle: a minimal table in a fresh database and the textbook Postgres queue —
//! an enqueuer INSERTs a row and NOTIFYs; claimers LISTEN and claim with `FOR UPDATE SKIP LOCKED`,
//! complete with an UPDATE that NOTIFYs; the enqueuer wakes on its completion and reads the row
//! back. The same shape as a call (insert, claim, finish, read), with no apalis and no
//! `shared::db`. (b) The simulator's spawn rate (`tctl get nodes --format=json`). (c) Both on one
//! CPU budget: a call needs one cycle and one spawn, so `1 / (1/cycle + 1/spawn)`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use mtcp_shared::config::TeleportConfig;
use sqlx::postgres::{PgListener, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};
use tokio::sync::{Notify, oneshot};
use tokio_util::sync::CancellationToken;

#[derive(clap::Args, Clone)]
pub struct LimitArgs {
    /// Concurrent enqueue→claim→complete loops per round.
    #[arg(long, value_delimiter = ',', default_value = "1,8,32")]
    pub loops: Vec<usize>,
    /// Length of each queue round, seconds.
    #[arg(long, default_value_t = 5.0)]
    pub seconds: f64,
    /// Simulator spawns per concurrency level.
    #[arg(long, default_value_t = 400)]
    pub spawns: usize,
    /// The PostgreSQL server to create the scratch database on.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: String,
}

/// The three limits, in calls (or cycles, or spawns) per second.
pub struct Limits {
    pub cycle: f64,
    pub spawn: f64,
}

impl Limits {
    /// One call needs a cycle and a spawn from the same CPUs.
    pub fn combined(&self) -> f64 {
        1.0 / (1.0 / self.cycle + 1.0 / self.spawn)
    }
}

/// A database of its own on a server, dropped by [`ScratchDb::drop_now`].
pub struct ScratchDb {
    pub url: String,
    admin_url: String,
    name: String,
}

impl ScratchDb {
    /// Create `<prefix>_<pid>` on the server of `server_url` (dropping a leftover of that name).
    pub async fn create(server_url: &str, prefix: &str) -> anyhow::Result<Self> {
        let name = format!("{prefix}_{}", std::process::id());
        let admin_url = with_database(server_url, "postgres");
        let mut admin = PgConnection::connect(&admin_url).await.context("connecting to DATABASE_URL's server")?;
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
            .execute(&mut admin)
            .await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin).await?;
        Ok(Self { url: with_database(server_url, &name), admin_url, name })
    }

    pub async fn drop_now(self) -> anyhow::Result<()> {
        let mut admin = PgConnection::connect(&self.admin_url).await?;
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut admin).await?;
        Ok(())
    }
}

/// Replace the database part of a URL (keeping its query).
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let root = base[scheme_end..].find('/').map_or(base, |i| &base[..scheme_end + i]);
    query.map_or_else(|| format!("{root}/{db}"), |q| format!("{root}/{db}?{q}"))
}

const SCHEMA: &str = "CREATE TABLE jobs (
    id bigint PRIMARY KEY,
    state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done')),
    args jsonb NOT NULL,
    result jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    ended_at timestamptz
);
CREATE INDEX jobs_queued ON jobs (id) WHERE state = 'queued'";

type Waiters = Arc<Mutex<HashMap<i64, oneshot::Sender<()>>>>;

/// One LISTEN connection for both channels: a queued row wakes one claimer, a completion wakes
/// its enqueuer.
async fn listen(pool: PgPool, queued: Arc<Notify>, waiters: Waiters, stop: CancellationToken) -> anyhow::Result<()> {
    let mut l = PgListener::connect_with(&pool).await?;
    l.listen_all(["queued", "done"]).await?;
    loop {
        let n = tokio::select! {
            _ = stop.cancelled() => return Ok(()),
            n = l.recv() => n?,
        };
        if n.channel() == "queued" {
            // A stored permit if no claimer is waiting: the next one to look finds the row.
            queued.notify_one();
        } else if let Ok(id) = n.payload().parse::<i64>()
            && let Some(tx) = waiters.lock().unwrap().remove(&id)
        {
            let _ = tx.send(());
        }
    }
}

/// Claim the oldest queued row, mark it done with a small result, NOTIFY its enqueuer.
async fn claimer(pool: PgPool, queued: Arc<Notify>, stop: CancellationToken) -> anyhow::Result<()> {
    while !stop.is_cancelled() {
        let claimed: Option<i64> = sqlx::query_scalar(
            "UPDATE jobs SET state = 'running', started_at = now()
             WHERE id = (SELECT id FROM jobs WHERE state = 'queued' ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1)
             RETURNING id",
        )
        .fetch_optional(&pool)
        .await?;
        let Some(id) = claimed else {
            // A short timeout only guards against a lost wake-up; it is not how work is found.
            tokio::select! {
                _ = stop.cancelled() => return Ok(()),
                _ = tokio::time::timeout(Duration::from_millis(200), queued.notified()) => continue,
            }
        };
        sqlx::query(
            "WITH u AS (UPDATE jobs SET state = 'done', result = '{\"nodes\": []}', ended_at = now()
                        WHERE id = $1 AND state = 'running' RETURNING id)
             SELECT pg_notify('done', id::text) FROM u",
        )
        .bind(id)
        .execute(&pool)
        .await?;
    }
    Ok(())
}

/// Enqueue, wait for the completion, read the row back, until `deadline`; returns the cycles.
async fn enqueuer(pool: PgPool, ids: Arc<AtomicI64>, waiters: Waiters, deadline: Instant) -> anyhow::Result<u64> {
    let mut cycles = 0;
    while Instant::now() < deadline {
        // The id is ours before the INSERT, so the waiter is registered before any completion.
        let id = ids.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        waiters.lock().unwrap().insert(id, tx);
        sqlx::query(
            "WITH i AS (INSERT INTO jobs (id, args) VALUES ($1, '{}') RETURNING id)
             SELECT pg_notify('queued', '') FROM i",
        )
        .bind(id)
        .execute(&pool)
        .await?;
        tokio::time::timeout(Duration::from_secs(30), rx).await.context("no completion within 30 s")??;
        let state: String =
            sqlx::query_scalar("SELECT state FROM jobs WHERE id = $1").bind(id).fetch_one(&pool).await?;
        anyhow::ensure!(state == "done", "woken before the end");
        cycles += 1;
    }
    Ok(cycles)
}

/// Cycles/s of the bare queue at each loop count, as (loops, rate); a fresh database, dropped after.
pub async fn queue_cycles(server_url: &str, loops: &[usize], seconds: f64) -> anyhow::Result<Vec<(usize, f64)>> {
    let db = ScratchDb::create(server_url, "mtcp_bench_limit").await?;
    let result = queue_rounds(&db.url, loops, seconds).await;
    db.drop_now().await?;
    result
}

async fn queue_rounds(url: &str, loops: &[usize], seconds: f64) -> anyhow::Result<Vec<(usize, f64)>> {
    let most = loops.iter().copied().max().unwrap_or(1) as u32;
    let pool = PgPoolOptions::new().max_connections(most * 2 + 2).connect(url).await?;
    sqlx::raw_sql(SCHEMA).execute(&pool).await?;
    let ids = Arc::new(AtomicI64::new(1));
    let mut rates = Vec::new();
    for &n in loops {
        let stop = CancellationToken::new();
        let (queued, waiters) = (Arc::new(Notify::new()), Waiters::default());
        let listener = tokio::spawn(listen(pool.clone(), queued.clone(), waiters.clone(), stop.clone()));
        // As many claimers as loops: each loop's job finds a free claimer, as the worker's slots do.
        let claimers: Vec<_> =
            (0..n).map(|_| tokio::spawn(claimer(pool.clone(), queued.clone(), stop.clone()))).collect();
        tokio::time::sleep(Duration::from_millis(200)).await;
        // Warm-up, then the round.
        enqueuer(pool.clone(), ids.clone(), waiters.clone(), Instant::now() + Duration::from_millis(300)).await?;
        let started = Instant::now();
        let deadline = started + Duration::from_secs_f64(seconds);
        let tasks: Vec<_> =
            (0..n).map(|_| tokio::spawn(enqueuer(pool.clone(), ids.clone(), waiters.clone(), deadline))).collect();
        let mut cycles = 0;
        for t in tasks {
            cycles += t.await??;
        }
        let rate = cycles as f64 / started.elapsed().as_secs_f64();
        stop.cancel();
        for c in claimers {
            c.await??;
        }
        listener.await??;
        rates.push((n, rate));
    }
    pool.close().await;
    Ok(rates)
}

/// Spawns/s of `tctl get nodes --format=json` at 1 and 2 concurrent spawners, as (spawners, rate).
pub fn spawn_rates(t: &TeleportConfig, spawns: usize) -> Vec<(usize, f64)> {
    [1usize, 2]
        .into_iter()
        .map(|conc| {
            let started = Instant::now();
            let n: usize = std::thread::scope(|s| {
                let handles: Vec<_> = (0..conc).map(|_| s.spawn(|| super::sim_times(t, spawns / conc).len())).collect();
                handles.into_iter().map(|h| h.join().expect("spawner")).sum()
            });
            (conc, n as f64 / started.elapsed().as_secs_f64())
        })
        .collect()
}

fn best(rates: &[(usize, f64)]) -> f64 {
    rates.iter().map(|r| r.1).fold(0.0, f64::max)
}

/// Measure (a), (b) and (c), printing each; `t` names the simulator.
pub async fn measure(args: &LimitArgs, t: &TeleportConfig) -> anyhow::Result<Limits> {
    let cycles = queue_cycles(&args.database_url, &args.loops, args.seconds).await?;
    let spawns = {
        let (t, n) = (t.clone(), args.spawns);
        tokio::task::spawn_blocking(move || spawn_rates(&t, n)).await?
    };
    let limits = Limits { cycle: best(&cycles), spawn: best(&spawns) };
    let each =
        |rates: &[(usize, f64)]| rates.iter().map(|(n, r)| format!("{n}: {r:.0}/s")).collect::<Vec<_>>().join(", ");
    println!("machine limit (no code of ours):");
    println!(
        "- bare Postgres queue cycle (INSERT+NOTIFY → SKIP LOCKED claim → UPDATE+NOTIFY → read back), \
         by concurrent loops: {}; best **{:.0} cycles/s**",
        each(&cycles),
        limits.cycle
    );
    println!(
        "- simulator spawn rate (`tctl get nodes --format=json`), by concurrent spawners: {}; best **{:.0} spawns/s**",
        each(&spawns),
        limits.spawn
    );
    println!("- combined on one CPU budget, 1 / (1/cycle + 1/spawn): **{:.0} calls/s**", limits.combined());
    Ok(limits)
}

/// A simulator set up as the stack sets it up, without a stack (for `bench limit` alone).
pub fn standalone_simulator(dir: &std::path::Path) -> anyhow::Result<TeleportConfig> {
    let mut config = mtcp_shared::config::Config::default();
    mtcp_cli::dev::use_simulator(&mut config, dir, None)?;
    Ok(config.teleport)
}

pub async fn run(args: LimitArgs) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let t = standalone_simulator(dir.path())?;
    measure(&args, &t).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Limits, with_database};

    #[test]
    fn combined_limit_is_the_harmonic_sum() {
        let l = Limits { cycle: 1000.0, spawn: 1000.0 };
        assert!((l.combined() - 500.0).abs() < 1e-9);
    }

    #[test]
    fn replaces_only_the_database() {
        assert_eq!(
            with_database("postgres://u@h:5432/postgres?sslmode=disable", "x"),
            "postgres://u@h:5432/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h:5432", "x"), "postgres://u@h:5432/x");
    }
}
