//! `bench leases`: how long a proxy lease takes to be usable (`start_proxy` answered `active`) and
//! to stop (`stop_proxy` answered `stopped`) on a worker and on an edge agent (a real `mtcp-edge`
//! process polling the gateway over HTTP), and what a two-person approval adds once the approver
//! decides (from `approve_operation` to the waiting caller's answer). Sequential rounds.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mtcp_tests::client::text_of;
use mtcp_tests::{McpClient, Stack, StackOptions, Tweak};
use serde_json::{Value, json};
use sha2::Digest;

use super::{ms, percentile};

#[derive(clap::Args)]
pub struct LeasesArgs {
    /// Sequential starts (and stops) per path.
    #[arg(long, default_value_t = 30)]
    rounds: usize,
}

/// Operators' starts wait for an admin; users' do not.
const POLICY: &str = r#"
roles:
  operator:
    grants: ["proxy.*"]
    constraints:
      require_approval: { capabilities: ["proxy.start"], approvers: { roles: [admin] } }
"#;

fn app(edge: Option<&str>) -> Value {
    let mut a = json!({ "kind": "proxy_app", "target": { "app": "grafana" }, "ttl_seconds": 300, "reason": "bench" });
    if let Some(e) = edge {
        a["edge_agent"] = json!(e);
    }
    a
}

async fn call(client: &McpClient, tool: &str, args: Value) -> anyhow::Result<Value> {
    let r = client.call(tool, args).await?;
    anyhow::ensure!(r.is_error == Some(false), "{tool}: {}", text_of(&r));
    Ok(r.structured_content.unwrap_or_default())
}

/// Start and stop `rounds` leases: (start times, stop times).
async fn starts_and_stops(
    client: &McpClient,
    edge: Option<&str>,
    rounds: usize,
) -> anyhow::Result<(Vec<Duration>, Vec<Duration>)> {
    let (mut starts, mut stops) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let t = Instant::now();
        let lease = call(client, "start_proxy", app(edge)).await?;
        starts.push(t.elapsed());
        anyhow::ensure!(lease["status"] == "active", "{lease}");
        let t = Instant::now();
        let stopped = call(client, "stop_proxy", json!({ "lease_id": lease["lease_id"] })).await?;
        stops.push(t.elapsed());
        anyhow::ensure!(stopped["status"] == "stopped", "{stopped}");
    }
    starts.sort();
    stops.sort();
    Ok((starts, stops))
}

/// `tsh proxy app grafana` run by hand, as a user would without the control plane: from spawn to
/// its startup line (what `start_proxy` waits for), `rounds` times; sorted.
fn by_hand(c: &mtcp_shared::config::Config, rounds: usize) -> anyhow::Result<Vec<Duration>> {
    use std::io::BufRead;
    let mut times = Vec::new();
    for _ in 0..rounds {
        let t = Instant::now();
        let mut child = Command::new(&c.tsh.tsh_path)
            .arg("-i")
            .arg(c.teleport.identity_file.as_ref().expect("the simulator's identity"))
            .args(["--proxy", c.teleport.proxy.as_deref().unwrap_or_default(), "proxy", "app", "grafana"])
            .envs(c.teleport.env.iter().filter(|(k, _)| k.starts_with("TELEPORT_SIM_")))
            .env("TELEPORT_HOME", c.tsh.home.join("bench-by-hand"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let out = std::io::BufReader::new(child.stdout.take().expect("piped"));
        let announced = out.lines().map_while(Result::ok).any(|l| l.contains("127.0.0.1:"));
        times.push(t.elapsed());
        let _ = child.kill();
        let _ = child.wait();
        anyhow::ensure!(announced, "tsh proxy app printed no address");
    }
    times.sort();
    Ok(times)
}

fn row(path: &str, starts: &[Duration], stops: &[Duration]) {
    println!(
        "| {path} | {} | {} | {} | {} | {} |",
        starts.len(),
        ms(percentile(starts, 0.5)),
        ms(percentile(starts, 0.95)),
        ms(percentile(stops, 0.5)),
        ms(percentile(stops, 0.95)),
    );
}

pub async fn run(args: LeasesArgs) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let policy = dir.path().join("policy.yaml");
    std::fs::write(&policy, POLICY)?;
    let tweak: Tweak = Arc::new(move |c| {
        super::generous_limits(c);
        c.policy.path = Some(policy.clone());
    });
    let mut stack = Stack::start(StackOptions { tweak: Some(tweak), ..Default::default() }).await?;

    // An edge agent for the `user` role's actor, as `mtcp edge create` makes one.
    let credential = format!("mtcp_edge_{}", mtcp_cli::dev::new_api_key());
    let hash: [u8; 32] = sha2::Sha256::digest(credential.as_bytes()).into();
    mtcp_shared::db::edge::create(&stack.db.pool, "bench-edge", "dev-user", &hash, None).await?;
    let cred_file = dir.path().join("credential");
    std::fs::write(&cred_file, &credential)?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&cred_file, std::fs::Permissions::from_mode(0o600))?;
    let c = &stack.config;
    let mut agent = Command::new(mtcp_tests::process::binary("mtcp-edge"))
        .args(["--gateway", &stack.base, "--name", "bench-edge", "--stop-grace", "1s", "--log-level", "warn"])
        .arg("--credential-file")
        .arg(&cred_file)
        .arg("--tsh-path")
        .arg(&c.tsh.tsh_path)
        .arg("--identity-file")
        .arg(c.teleport.identity_file.as_ref().expect("the simulator's identity"))
        .args(["--proxy", c.teleport.proxy.as_deref().unwrap_or_default()])
        .arg("--state-dir")
        .arg(dir.path().join("edge-state"))
        .envs(c.teleport.env.iter().filter(|(k, _)| k.starts_with("TELEPORT_SIM_")))
        .stdout(Stdio::null())
        .spawn()?;
    let user = stack.client("user").await?;
    for _ in 0..100 {
        let list = call(&user, "list_edge_agents", json!({})).await?;
        if list["agents"].as_array().is_some_and(|a| a.iter().any(|a| a["online"] == true)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    println!("| lease on | rounds | start p50 ms | start p95 ms | stop p50 ms | stop p95 ms |");
    println!("|---|---:|---:|---:|---:|---:|");
    let hand = by_hand(&stack.config, args.rounds)?;
    println!(
        "| `tsh proxy app` by hand (no control plane; to its address line) | {} | {} | {} | – | – |",
        hand.len(),
        ms(percentile(&hand, 0.5)),
        ms(percentile(&hand, 0.95))
    );
    let (starts, stops) = starts_and_stops(&user, None, args.rounds).await?;
    row("a worker", &starts, &stops);
    let (starts, stops) = starts_and_stops(&user, Some("bench-edge"), args.rounds).await?;
    row("an edge agent (`mtcp-edge`, HTTP long poll)", &starts, &stops);

    // Behind an approval: from the admin's approve_operation to the operator's answer.
    let admin = stack.client("admin").await?;
    let (mut decide, mut answered) = (Vec::new(), Vec::new());
    for _ in 0..args.rounds {
        let operator = stack.client("operator").await?;
        let waiting = tokio::spawn(async move { operator.call("start_proxy", app(None)).await });
        let (op_id, digest) = loop {
            let list = call(&admin, "list_pending_approvals", json!({})).await?;
            if let Some(p) = list["approvals"].as_array().and_then(|a| a.first()).cloned() {
                break (p["op_id"].clone(), p["approval"]["args_sha256"].clone());
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        let t = Instant::now();
        call(&admin, "approve_operation", json!({ "op_id": op_id, "args_sha256": digest, "reason": "bench" })).await?;
        decide.push(t.elapsed());
        let lease = waiting.await??;
        answered.push(t.elapsed());
        let lease = lease.structured_content.unwrap_or_default();
        anyhow::ensure!(lease["status"] == "active", "{lease}");
        call(&admin, "stop_proxy", json!({ "lease_id": lease["lease_id"] })).await?;
    }
    decide.sort();
    answered.sort();
    println!(
        "\nbehind an approval ({} rounds): approve_operation answered p50 {} ms, p95 {} ms; the waiting \
         start_proxy answered `active` p50 {} ms, p95 {} ms after the approval was sent",
        decide.len(),
        ms(percentile(&decide, 0.5)),
        ms(percentile(&decide, 0.95)),
        ms(percentile(&answered, 0.5)),
        ms(percentile(&answered, 0.95)),
    );
    let _ = agent.kill();
    let _ = agent.wait();
    stack.stop().await;
    Ok(())
}
