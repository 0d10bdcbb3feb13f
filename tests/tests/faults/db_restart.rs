//! The database restarted under steady load: every accepted call ends, and the gateway, the worker
//! and the reaper carry on without being restarted themselves.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mtcp_cli::postgres::{PrivatePostgres, find_bin_dir};
use mtcp_tests::{McpClient, Stack, StackOptions};
use serde_json::json;

use crate::common;

/// A private server of this test's own (never the shared one); stopped and removed when dropped.
struct Server {
    dir: PathBuf,
}

impl Server {
    fn pg_ctl(&self, args: &[&str]) {
        let pgdata = self.dir.join("pg");
        let status = std::process::Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(find_bin_dir().unwrap().join("pg_ctl"))
            .arg("-D")
            .arg(&pgdata)
            .arg("-l")
            .arg(pgdata.join("server.log"))
            .args(args)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "pg_ctl {args:?}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = PrivatePostgres::stop(&self.dir);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One call of the load: when it was sent and answered, and how it ended.
struct Call {
    sent: Instant,
    answered: Instant,
    op_id: Option<uuid::Uuid>,
    ok: bool,
}

async fn client(url: &str, key: &str) -> McpClient {
    loop {
        if let Ok(Ok(c)) = tokio::time::timeout(Duration::from_secs(5), McpClient::connect(url, Some(key))).await {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Call `list_nodes` until `stop`, reconnecting when the session is lost.
async fn load(url: String, key: String, stop: Arc<AtomicBool>) -> Vec<Call> {
    let mut calls = Vec::new();
    let mut c = client(&url, &key).await;
    while !stop.load(Ordering::Relaxed) {
        let sent = Instant::now();
        let r = tokio::time::timeout(Duration::from_secs(20), c.call("list_nodes", json!({}))).await;
        let answered = Instant::now();
        match r {
            Ok(Ok(r)) => calls.push(Call { sent, answered, op_id: common::op_id(&r), ok: r.is_error == Some(false) }),
            _ => {
                calls.push(Call { sent, answered, op_id: None, ok: false });
                c = client(&url, &key).await;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    calls
}

fn private_dir() -> PathBuf {
    // Under /var/tmp: the server user must be able to reach it.
    Path::new("/var/tmp").join(format!("mtcp-faults-pg-{}", uuid::Uuid::new_v4().simple()))
}

/// One stop and start of the server, as seen from the test.
struct Outage {
    began: Instant,
    began_wall: chrono::DateTime<chrono::Utc>,
    /// The server had stopped (`pg_ctl stop` returned).
    down: Instant,
    /// The server accepted connections again.
    up: Instant,
    up_wall: chrono::DateTime<chrono::Utc>,
}

impl Server {
    /// Stop the server (fast: open sessions are terminated mid-statement), keep it down for `for_`,
    /// start it again.
    async fn outage(&self, for_: Duration) -> Outage {
        let began = Instant::now();
        let began_wall = chrono::Utc::now();
        self.pg_ctl(&["-m", "fast", "-w", "stop"]);
        let down = Instant::now();
        tokio::time::sleep(for_).await;
        self.pg_ctl(&["-w", "-t", "60", "start"]);
        Outage { began, began_wall, down, up: Instant::now(), up_wall: chrono::Utc::now() }
    }
}

/// What one outage did to the load, for the report (and the asserts).
async fn recovery(pool: &sqlx::PgPool, calls: &[Call], o: &Outage, next: Option<&Outage>) -> String {
    let until = next.map_or(Instant::now(), |n| n.began);
    let first_ok = calls
        .iter()
        .filter(|c| c.ok && c.sent >= o.down && c.answered < until)
        .map(|c| c.answered)
        .min()
        .unwrap_or_else(|| panic!("no call sent after the server stopped succeeded before {until:?}"));
    // The operations pending when the server went down, and when the last of them ended.
    let (pending, last_ended): (i64, Option<chrono::DateTime<chrono::Utc>>) = sqlx::query_as(
        "SELECT count(*), max(ended_at) FROM operations
         WHERE created_at <= $1 AND (ended_at IS NULL OR ended_at > $1)",
    )
    .bind(o.began_wall)
    .fetch_one(pool)
    .await
    .unwrap();
    let all_ended = last_ended.map(|t| (t - o.up_wall).to_std().unwrap_or_default());
    format!(
        "server down {:.1?}; first successful call {:.1?} after the stop began ({:.1?} after the server was back); \
         the {pending} ops pending at the stop all terminal {} after the server was back",
        o.up - o.began,
        first_ok.saturating_duration_since(o.began),
        first_ok.saturating_duration_since(o.up),
        all_ended.map_or_else(|| "(none pending)".to_owned(), |d| format!("{d:.1?}")),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "slow fault injection: scripts/faults"]
async fn a_database_restart_under_load_loses_no_accepted_call() {
    // The services' warnings tell the story of a failure here (which connection broke, what was
    // rebuilt), so they go to the test's output.
    let _ = tracing_subscriber::fmt()
        .with_env_filter("warn,sqlx=error,mtcp_worker::supervise=info")
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
    let server = Server { dir: private_dir() };
    let pg = PrivatePostgres::start(&server.dir).await.unwrap();
    // Every call spends 300 ms in the simulator, so some are in flight when the server stops.
    let sim_env = BTreeMap::from([
        ("TELEPORT_SIM_DELAY_MS".to_owned(), "300".to_owned()),
        ("TELEPORT_SIM_FAIL_ON".to_owned(), "get nodes".to_owned()),
    ]);
    let tweak: mtcp_tests::Tweak = Arc::new(|c| c.policy.rate_limit_per_minute = 0);
    let opts = StackOptions {
        sim_env,
        server: Some(pg.admin_url()),
        call_budget: Duration::from_secs(10),
        tweak: Some(tweak),
        ..Default::default()
    };
    let mut stack = Stack::start(opts).await.unwrap();
    let connect_timeout = stack.config.database.connect_timeout;
    let offline_after = stack.config.reaper.agent_offline_after;
    let key = stack.key("operator").to_owned();
    let online_workers = || async {
        sqlx::query_scalar::<_, uuid::Uuid>("SELECT agent_id FROM agents WHERE kind = 'worker' AND status = 'online'")
            .fetch_all(&stack.db.pool)
            .await
            .unwrap()
    };
    let registered_by = Instant::now() + Duration::from_secs(10);
    let mut worker_before = online_workers().await;
    while worker_before.is_empty() && Instant::now() < registered_by {
        tokio::time::sleep(Duration::from_millis(50)).await;
        worker_before = online_workers().await;
    }
    assert_eq!(worker_before.len(), 1, "one worker registered");
    let stop = Arc::new(AtomicBool::new(false));
    let loads: Vec<_> = (0..3).map(|_| tokio::spawn(load(stack.url.clone(), key.clone(), stop.clone()))).collect();

    // A restart (2 s down, shorter than the pools' connect timeout: statements in flight fail,
    // later ones wait for the server), then an outage longer than both the connect timeout and the
    // reaper's offline threshold (every statement fails, every heartbeat is older than the
    // threshold when the server comes back).
    let long = connect_timeout.max(offline_after) + Duration::from_secs(3);
    tokio::time::sleep(Duration::from_secs(4)).await;
    let short_outage = server.outage(Duration::from_secs(2)).await;
    tokio::time::sleep(Duration::from_secs(8)).await;
    let long_outage = server.outage(long).await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    stop.store(true, Ordering::Relaxed);
    let mut calls = Vec::new();
    for l in loads {
        calls.extend(l.await.unwrap());
    }

    let accepted: Vec<uuid::Uuid> = calls.iter().filter_map(|c| c.op_id).collect();
    let ended = common::wait_ops(&stack.db.pool, &accepted, Duration::from_secs(60), common::Op::terminal).await;
    let stuck: Vec<_> = accepted.iter().zip(&ended).filter(|(_, e)| e.is_none()).map(|(id, _)| id).collect();
    assert!(stuck.is_empty(), "accepted calls that never ended: {stuck:?}");
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM operations WHERE status IN ('queued', 'running')")
        .fetch_one(&stack.db.pool)
        .await
        .unwrap();
    assert_eq!(left, 0, "no operation is left queued or running");
    let short = recovery(&stack.db.pool, &calls, &short_outage, Some(&long_outage)).await;
    let long_report = recovery(&stack.db.pool, &calls, &long_outage, None).await;
    // The worker lived through both: the reaper did not take the outage for its death.
    assert_eq!(online_workers().await, worker_before, "the same worker incarnation is online after both outages");

    // The services recover by themselves: calls after the restart all succeed (gateway and
    // worker), and a lease past its TTL is expired (reaper) and stopped (the worker's lease loops).
    let c = client(&stack.url, &key).await;
    for i in 0..5 {
        let r = c.call("list_nodes", json!({})).await.unwrap();
        assert_eq!(r.is_error, Some(false), "call {i} after recovery: {r:?}");
    }
    let args = json!({ "kind": "proxy_app", "target": { "app": "grafana" }, "ttl_seconds": 2, "reason": "after" });
    let lease = c.call("start_proxy", args).await.unwrap();
    assert_eq!(lease.is_error, Some(false), "start_proxy after recovery: {lease:?}");
    let lease_id = lease.structured_content.unwrap()["lease_id"].clone();
    // The reaper judges no silence during its first offline threshold as leader: expiry is not
    // held back by that, but allow for it anyway.
    let deadline = Instant::now() + Duration::from_secs(20) + offline_after;
    let status = loop {
        let s = c.call("get_proxy_status", json!({ "lease_id": lease_id })).await.unwrap().structured_content.unwrap();
        if s["live"] == false || Instant::now() > deadline {
            break s;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(status["status"], "expired", "the reaper expires leases again: {status}");
    let outcomes: BTreeMap<String, i64> =
        sqlx::query_as::<_, (String, i64)>("SELECT status, count(*) FROM operations GROUP BY status")
            .fetch_all(&stack.db.pool)
            .await
            .unwrap()
            .into_iter()
            .collect();
    let failed_calls = calls.iter().filter(|c| !c.ok).count();
    eprintln!(
        "database restart: {} calls ({} accepted, {failed_calls} answered with an error); restart: {short}; \
         long outage: {long_report}; outcomes {outcomes:?}",
        calls.len(),
        accepted.len(),
    );
    stack.stop().await;
    drop(stack);
    drop(server);
}
