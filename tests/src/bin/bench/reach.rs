//! `bench reach`: what the reach tools cost. `list_databases` next to `tctl get db_server` run by
//! hand, and `check_policy` of an access request — the verdict alone (a role the policy refuses),
//! and with its blast radius (seven cluster reads on a worker) — next to those seven `tctl` reads
//! run by hand one after another, which is what a reviewer would otherwise do. Sequential calls.
//! Also what marking untrusted text costs a result: the text block of a `list_nodes` answer.

use std::process::Command;
use std::time::{Duration, Instant};

use mtcp_tests::client::text_of;
use mtcp_tests::{McpClient, Stack, StackOptions};
use serde_json::{Value, json};

use super::{ms, percentile};

#[derive(clap::Args)]
pub struct ReachArgs {
    /// Sequential calls per measurement.
    #[arg(long, default_value_t = 40)]
    rounds: usize,
}

/// The reads the blast radius makes.
const READS: [&str; 7] = ["roles", "users", "nodes", "db_server", "app_server", "kube_server", "windows_desktop"];

async fn timed(
    client: &McpClient,
    tool: &str,
    args: &Value,
    rounds: usize,
    check: fn(&Value) -> bool,
) -> Vec<Duration> {
    let mut times = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let t = Instant::now();
        let r = client.call(tool, args.clone()).await.expect("the call is answered");
        times.push(t.elapsed());
        let value = r.structured_content.clone().unwrap_or_default();
        assert!(r.is_error == Some(false) && check(&value), "{tool}: {}", text_of(&r));
    }
    times.sort();
    times
}

/// `tctl get <kinds…>` by hand, one after another, `rounds` times; sorted.
fn by_hand(t: &mtcp_shared::config::TeleportConfig, kinds: &[&str], rounds: usize) -> Vec<Duration> {
    let mut times: Vec<Duration> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for kind in kinds {
                let out = Command::new(&t.tctl_path)
                    .arg("--auth-server")
                    .arg(t.proxy.as_deref().unwrap_or_default())
                    .arg("-i")
                    .arg(t.identity_file.as_ref().expect("the simulator's identity"))
                    .args(["get", kind, "--format=json"])
                    .envs(t.env.iter().filter(|(k, _)| k.starts_with("TELEPORT_SIM_")))
                    .output()
                    .expect("running the simulator");
                assert!(out.status.success(), "{kind}: {}", String::from_utf8_lossy(&out.stderr));
            }
            start.elapsed()
        })
        .collect();
    times.sort();
    times
}

fn row(what: &str, times: &[Duration]) {
    println!(
        "| {what} | {} | {} | {} |",
        ms(percentile(times, 0.5)),
        ms(percentile(times, 0.95)),
        ms(*times.last().unwrap_or(&Duration::ZERO))
    );
}

pub async fn run(a: ReachArgs) -> anyhow::Result<()> {
    let mut stack = Stack::start(StackOptions { ..Default::default() }).await?;
    let operator = stack.client("operator").await?;
    let readonly = stack.client("readonly").await?;
    let n = a.rounds;
    let ask = json!({"tool": "create_access_request", "arguments": {"resources": ["access"], "reason": "bench"}});
    // Warm the caches and the worker.
    timed(&operator, "list_databases", &json!({}), 3, |_| true).await;

    println!("| measurement ({n} sequential calls) | p50 ms | p95 ms | max ms |");
    println!("|---|---|---|---|");
    row("`tctl get db_server` by hand", &by_hand(&stack.config.teleport, &["db_server"], n));
    row(
        "`list_databases` (rmcp client)",
        &timed(&operator, "list_databases", &json!({}), n, |v| v["count"].as_u64().is_some()).await,
    );
    row("the seven `tctl get` of a blast radius by hand", &by_hand(&stack.config.teleport, &READS, n));
    row(
        "`check_policy` verdict alone (refused: readonly)",
        &timed(&readonly, "check_policy", &ask, n, |v| v["allow"] == false).await,
    );
    row(
        "`check_policy` with blast radius (operator)",
        &timed(&operator, "check_policy", &ask, n, |v| v["blast_radius"]["nodes"]["total"].as_u64().is_some()).await,
    );
    marking(&operator).await;
    stack.stop().await;
    Ok(())
}

/// Time building the marked text block of a real `list_nodes` result, next to plain JSON.
async fn marking(client: &McpClient) {
    use mtcp_shared::tools::untrusted::result_text;
    let r = client.call("list_nodes", json!({})).await.expect("list_nodes answers");
    let value = r.structured_content.unwrap_or_default();
    const N: u32 = 20_000;
    let t = Instant::now();
    let mut bytes = 0;
    for _ in 0..N {
        bytes = std::hint::black_box(value.to_string()).len();
    }
    let plain = t.elapsed() / N;
    let t = Instant::now();
    let mut marked = 0;
    for _ in 0..N {
        marked = std::hint::black_box(result_text("list_nodes", "op", &value)).len();
    }
    let with_marks = t.elapsed() / N;
    println!(
        "\nText block of a list_nodes result: plain JSON {bytes} B in {:.1} µs; marked {marked} B in {:.1} µs",
        plain.as_secs_f64() * 1e6,
        with_marks.as_secs_f64() * 1e6
    );
}
