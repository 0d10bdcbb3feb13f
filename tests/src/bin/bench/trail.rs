//! `bench trail`: the hot path must not grow with the trail. `list_nodes` at a few client counts on
//! an empty `operations` table, then again on the same stack after a million finished operations
//! were added (copies of a real finished call, spread over the last week, analysed as autovacuum
//! would), coalescing off so every call runs.

use std::time::{Duration, Instant};

use mtcp_tests::{Stack, StackOptions};

use super::http_load::{self, Target};
use super::ms;

#[derive(clap::Args)]
pub struct TrailArgs {
    /// Finished operations to add before the second rounds.
    #[arg(long, default_value_t = 1_000_000)]
    operations: i64,
    /// Concurrent clients per round.
    #[arg(long, value_delimiter = ',', default_value = "8")]
    clients: Vec<usize>,
    /// Length of each round, seconds.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Jobs the worker runs at once.
    #[arg(long, default_value_t = 16)]
    worker_concurrency: usize,
}

/// Add `n` finished operations: copies of the newest succeeded call (its result included), each
/// with its own id, created at a point of the last seven days. Batched, so no statement runs long.
pub async fn prefill(pool: &sqlx::PgPool, n: i64) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let batch = 100_000;
    let mut done = 0;
    while done < n {
        let k = batch.min(n - done);
        sqlx::query(
            "INSERT INTO operations (op_id, request_id, actor, actor_role, capability, tool, inputs, decision, status,
                                     attempt, worker_id, created_at, started_at, ended_at, exit_code, result, runs)
             SELECT gen_random_uuid(), g::text, 'trail-' || (g % 200), o.actor_role, o.capability, o.tool, o.inputs,
                    o.decision, o.status, 1, o.worker_id, t, t + interval '2 ms', t + interval '5 ms', o.exit_code,
                    o.result, o.runs
             FROM (SELECT * FROM operations WHERE status = 'succeeded' AND result IS NOT NULL
                   ORDER BY created_at DESC LIMIT 1) o,
                  generate_series($1::bigint, $2::bigint) g,
                  LATERAL (SELECT now() - make_interval(secs => (g % 604800)::float8 + 60)) AS ts(t)",
        )
        .bind(done)
        .bind(done + k - 1)
        .execute(pool)
        .await?;
        done += k;
    }
    sqlx::query("ANALYZE operations").execute(pool).await?;
    Ok(started.elapsed())
}

pub async fn run(a: TrailArgs) -> anyhow::Result<()> {
    let tweak: mtcp_tests::Tweak = std::sync::Arc::new(|c| {
        super::generous_limits(c);
        c.coalescing.enabled = false;
    });
    let opts = StackOptions { worker_concurrency: a.worker_concurrency, tweak: Some(tweak), ..Default::default() };
    let mut stack = Stack::start(opts).await?;
    let key = stack.key("admin").to_owned();
    let seconds = Duration::from_secs_f64(a.seconds);
    println!("| trail | clients | calls/s | p50 ms | p99 ms | errors |");
    println!("|---|---:|---:|---:|---:|---:|");
    let mut rounds = Vec::new();
    for label in ["empty", "full"] {
        if label == "full" {
            let took = prefill(&stack.db.pool, a.operations).await?;
            let total: i64 = sqlx::query_scalar("SELECT count(*) FROM operations").fetch_one(&stack.db.pool).await?;
            eprintln!("added {} finished operations in {:.1} s ({total} rows now)", a.operations, took.as_secs_f64());
        }
        for &n in &a.clients {
            let target = Target { url: stack.url.clone(), bearer: Some(key.clone()) };
            let r = http_load::drive(&target, "list_nodes", n, seconds).await?;
            println!("| {label} | {n} | {:.1} | {} | {} | {} |", r.rate(), ms(r.p(0.5)), ms(r.p(0.99)), r.errors);
            rounds.push((label, n, r.rate(), r.p(0.99).as_secs_f64()));
        }
    }
    for &n in &a.clients {
        let of = |label| rounds.iter().find(|r| r.0 == label && r.1 == n).copied();
        if let (Some(e), Some(f)) = (of("empty"), of("full")) {
            println!(
                "\n{n} clients: with the trail {:.0} % of the calls/s on an empty table, p99 {:.2}×",
                100.0 * f.2 / e.2,
                f.3 / e.3
            );
        }
    }
    stack.stop().await;
    Ok(())
}
