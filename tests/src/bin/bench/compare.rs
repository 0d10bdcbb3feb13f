//! `bench compare`: one run, one table. The machine's limit (a bare Postgres queue cycle, the
//! simulator's spawn rate, both on one CPU budget), then `list_nodes` at each client count on what a
//! user would run instead — the FastMCP peer running tctl inline, and the same peer recording each
//! call in Postgres — and on this system, through the same kept-alive HTTP driver and through rmcp
//! clients, with call coalescing off and on, and this system's rate as a share of the limit.

use std::time::Duration;

use mtcp_shared::config::{Config, TeleportConfig};
use mtcp_tests::{Stack, StackOptions};

use super::http_load::{self, Load, Target};
use super::limit::{self, LimitArgs, ScratchDb};
use super::{ms, peer, percentile, rmcp_round, sim_times};

#[derive(clap::Args)]
pub struct CompareArgs {
    /// Concurrent clients per round (one table row each).
    #[arg(long, value_delimiter = ',', default_value = "1,8,32,128")]
    clients: Vec<usize>,
    /// Length of each round, seconds.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Jobs this system's worker runs at once.
    #[arg(long, default_value_t = 16)]
    worker_concurrency: usize,
    /// Length of each round of the bare queue cycle (the machine's limit), seconds.
    #[arg(long, default_value_t = 5.0)]
    limit_seconds: f64,
    /// Simulator spawns per concurrency level (the machine's limit).
    #[arg(long, default_value_t = 400)]
    spawns: usize,
    /// The PostgreSQL server every database of the run is created on.
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
}

/// The one switch between the "coalescing off" and "coalescing on" rounds.
fn set_coalescing(c: &mut Config, on: bool) {
    c.coalescing.enabled = on;
}

/// One cell of the table.
enum Cell {
    Load(Load),
    /// Calls/s as a percentage of the combined limit.
    Share(f64),
    /// Why there is no figure.
    Missing(String),
}

/// One column of the table: a system and a client, a cell per client count.
struct Column {
    name: String,
    cells: Vec<Cell>,
}

impl Column {
    fn new(name: &str) -> Self {
        Self { name: name.to_owned(), cells: Vec::new() }
    }

    fn skipped(name: &str, clients: usize, why: &str) -> Self {
        Self { name: name.to_owned(), cells: (0..clients).map(|_| Cell::Missing(why.to_owned())).collect() }
    }
}

pub async fn run(args: CompareArgs) -> anyhow::Result<()> {
    let seconds = Duration::from_secs_f64(args.seconds);
    let scratch = tempfile::tempdir()?;
    // The simulator exactly as the stack sets it up, for the limit and the peer.
    let t = limit::standalone_simulator(&scratch.path().join("sim"))?;
    let limit_args = LimitArgs {
        loops: vec![1, 8, 32],
        seconds: args.limit_seconds,
        spawns: args.spawns,
        database_url: args.database_url.clone(),
    };
    let limits = limit::measure(&limit_args, &t).await?;
    let combined = limits.combined();
    let sim = {
        let t = t.clone();
        tokio::task::spawn_blocking(move || sim_times(&t, 200)).await?
    };
    println!(
        "- simulator `tctl get nodes --format=json` alone: p50 {} ms, p99 {} ms (200 sequential runs)",
        ms(percentile(&sim, 0.5)),
        ms(percentile(&sim, 0.99))
    );

    let mut columns = peer_columns(&args, &t, scratch.path(), seconds).await;
    for on in [false, true] {
        let label = if on { "on" } else { "off" };
        let (http, rmcp) = system_columns(&args, on, seconds).await?;
        let cells = http
            .cells
            .iter()
            .map(|c| match c {
                Cell::Load(l) => Cell::Share(l.rate() / combined * 100.0),
                _ => Cell::Missing("-".into()),
            })
            .collect();
        let share = Column { name: format!("% of limit, coalescing {label}"), cells };
        columns.extend([http, rmcp, share]);
    }
    print_table(&args.clients, &columns);
    Ok(())
}

/// The peer in both modes, or columns saying why it was skipped.
async fn peer_columns(
    args: &CompareArgs,
    t: &TeleportConfig,
    logs: &std::path::Path,
    seconds: Duration,
) -> Vec<Column> {
    let names = ["FastMCP inline (no DB)", "FastMCP + Postgres"];
    let python = match tokio::task::spawn_blocking(peer::venv).await {
        Ok(Ok(p)) => p,
        Ok(Err(e)) => return skip_peer(&names, args.clients.len(), &format!("{e:#}")),
        Err(e) => return skip_peer(&names, args.clients.len(), &e.to_string()),
    };
    let mut columns = Vec::new();
    for (name, mode) in names.iter().zip(["inline", "postgres"]) {
        match peer_rounds(args, &python, mode, t, logs, seconds).await {
            Ok(c) => columns.push(Column { name: (*name).to_owned(), ..c }),
            Err(e) => {
                println!("\npeer `{mode}` skipped: {e:#}");
                columns.push(Column::skipped(name, args.clients.len(), "skipped"));
            }
        }
    }
    columns
}

fn skip_peer(names: &[&str], clients: usize, why: &str) -> Vec<Column> {
    println!("\nthe FastMCP peer was skipped: {why}");
    names.iter().map(|n| Column::skipped(n, clients, "skipped")).collect()
}

async fn peer_rounds(
    args: &CompareArgs,
    python: &std::path::Path,
    mode: &str,
    t: &TeleportConfig,
    logs: &std::path::Path,
    seconds: Duration,
) -> anyhow::Result<Column> {
    let db = match mode {
        "postgres" => Some(ScratchDb::create(&args.database_url, "mtcp_bench_peer").await?),
        _ => None,
    };
    let result = async {
        let peer = peer::Peer::start(python, mode, db.as_ref().map(|d| d.url.as_str()), t, logs).await?;
        let target = Target { url: peer.url.clone(), bearer: None };
        let mut column = Column::new(mode);
        for &n in &args.clients {
            column.cells.push(round(&target, n, seconds).await);
        }
        if column.cells.iter().all(|c| matches!(c, Cell::Missing(_))) {
            println!("\npeer `{mode}` log:\n{}", peer.log_tail());
        }
        Ok(column)
    }
    .await;
    if let Some(db) = db {
        db.drop_now().await?;
    }
    result
}

/// One kept-alive HTTP round; a failed round is a cell saying why.
async fn round(target: &Target, n: usize, seconds: Duration) -> Cell {
    match http_load::drive(target, "list_nodes", n, seconds).await {
        Ok(load) => {
            if let Some(e) = load.first_error.as_ref().filter(|_| load.errors > 0) {
                eprintln!("bench: {n} clients on {}: {} errors, the first: {e}", target.url, load.errors);
            }
            if let Some(age) = load.oldest_answer {
                println!(
                    "- {n} kept-alive clients on {}: the oldest answer arrived {age:.3} s after it was produced",
                    target.url
                );
            }
            Cell::Load(load)
        }
        Err(e) => {
            eprintln!("bench: {n} clients on {}: {e:#}", target.url);
            Cell::Missing("failed".into())
        }
    }
}

/// This system on a stack of its own with coalescing `on` or off: `whoami` at one kept-alive
/// client, then each client count through kept-alive HTTP and through rmcp clients.
async fn system_columns(args: &CompareArgs, on: bool, seconds: Duration) -> anyhow::Result<(Column, Column)> {
    let label = if on { "on" } else { "off" };
    let tweak: mtcp_tests::Tweak = std::sync::Arc::new(move |c| {
        super::generous_limits(c);
        set_coalescing(c, on);
    });
    let opts = StackOptions { worker_concurrency: args.worker_concurrency, tweak: Some(tweak), ..Default::default() };
    let mut stack = Stack::start(opts).await?;
    let key = stack.key("admin").to_owned();
    let target = Target { url: stack.url.clone(), bearer: Some(key.clone()) };
    match http_load::drive(&target, "whoami", 1, seconds).await {
        Ok(w) => println!(
            "- this system, coalescing {label}: `whoami` at 1 kept-alive client p50 {} ms, p99 {} ms ({:.0} calls/s)",
            ms(w.p(0.5)),
            ms(w.p(0.99)),
            w.rate()
        ),
        Err(e) => println!("- this system, coalescing {label}: `whoami` failed: {e:#}"),
    }
    let mut http = Column::new(&format!("this system, HTTP, coalescing {label}"));
    let mut rmcp = Column::new(&format!("this system, rmcp, coalescing {label}"));
    for &n in &args.clients {
        http.cells.push(round(&target, n, seconds).await);
        let r = match rmcp_round(&stack, &key, "list_nodes", n, seconds).await {
            Ok(r) => {
                let mut ok: Vec<Duration> = r.with_ids.into_iter().map(|(d, _)| d).collect();
                ok.sort();
                Cell::Load(Load { ok, errors: r.errors, elapsed: r.elapsed, first_error: None, oldest_answer: None })
            }
            Err(e) => {
                eprintln!("bench: {n} rmcp clients: {e:#}");
                Cell::Missing("failed".into())
            }
        };
        rmcp.cells.push(r);
    }
    stack.stop().await;
    Ok((http, rmcp))
}

fn print_table(clients: &[usize], columns: &[Column]) {
    println!("\n`list_nodes`, each cell calls/s · p50/p99 ms (errors if any); the share of the limit is the");
    println!("kept-alive HTTP rate over the combined limit.\n");
    let head: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    println!("| clients | {} |", head.join(" | "));
    println!("|---:|{}", "---:|".repeat(columns.len()));
    for (i, n) in clients.iter().enumerate() {
        let cells: Vec<String> = columns
            .iter()
            .map(|c| match c.cells.get(i) {
                Some(Cell::Load(l)) => l.cell(),
                Some(Cell::Share(p)) => format!("{p:.0} %"),
                Some(Cell::Missing(why)) => why.clone(),
                None => String::new(),
            })
            .collect();
        println!("| {n} | {} |", cells.join(" | "));
    }
}
