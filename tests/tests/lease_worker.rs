//! The worker's side of proxy leases, driven the way the gateway's `start_proxy` will drive it
//! (operation, lease and `leases`-queue job in one transaction): a lease becomes active and serves,
//! logs what its process prints, stops on request, fails with the exit code when its process dies,
//! fails with Teleport's message when it cannot start, bridges `proxy_ssh` connections, and never
//! outlives its worker (shutdown, SIGKILL, or a later incarnation's leftover sweep).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use mtcp_shared::db::{self, leases::LeaseRow, operations::OperationRow};
use mtcp_shared::domain::{Actor, ActorKind, AuthSource, Capability, LeaseKind, LeaseStatus, OpId, ToolJob};
use mtcp_shared::policy::Decision;
use mtcp_tests::{Stack, StackOptions};
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use uuid::Uuid;

/// Upper bound of every wait in this file.
const DEADLINE: Duration = Duration::from_secs(15);

fn options(sim_env: &[(&str, &str)], worker: bool) -> StackOptions {
    let sim_env: BTreeMap<String, String> = sim_env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    let tweak: mtcp_tests::Tweak = std::sync::Arc::new(|c| {
        c.leases.start_timeout = Duration::from_secs(5);
        c.leases.stop_grace = Duration::from_millis(500);
        c.leases.heartbeat_interval = Duration::from_millis(300);
        c.leases.reconcile_interval = Duration::from_millis(500);
        c.leases.max_ssh_connections = 2;
    });
    StackOptions { sim_env, worker, tweak: Some(tweak), ..Default::default() }
}

/// What the gateway's `start_proxy` does: the operation queued with its job and the lease, in one
/// transaction.
async fn start_proxy(pool: &PgPool, kind: LeaseKind, target: Value, listen_addr: Option<&str>) -> (OpId, Uuid) {
    let op_id = OpId::generate();
    let lease_id = Uuid::new_v4();
    let actor = Actor {
        id: "alice".into(),
        kind: ActorKind::User,
        role: "operator".into(),
        source: AuthSource::ConfigApiKey,
        groups: vec![],
    };
    let decision: Decision =
        serde_json::from_value(json!({ "allow": true, "reason": "test", "policy_version": "t" })).expect("a decision");
    // The previous release's shape (`_lease_id`): such jobs must still run after an upgrade.
    let args = json!({ "kind": kind.as_str(), "target": target, "reason": "test", "_lease_id": lease_id.to_string() });
    let mut tx = pool.begin().await.unwrap();
    let op = db::operations::NewOperation {
        op_id,
        request_id: None,
        actor: &actor,
        capability: Capability::ProxyStart,
        tool: "start_proxy",
        inputs: args.clone(),
        reason: None,
        ticket: None,
        decision: &decision,
    };
    // The job as the previous release queued it: the typed call reads the lease id from `_lease_id`.
    let job: ToolJob =
        serde_json::from_value(json!({ "op_id": op_id, "tool": "start_proxy", "args": args, "actor": "alice" }))
            .unwrap();
    db::queue::enqueue(&mut *tx, &op, &job).await.unwrap();
    let target = serde_json::to_value(mtcp_shared::domain::LeaseTarget::parse(kind, Some(&target)).unwrap()).unwrap();
    let lease = db::leases::NewLease {
        lease_id,
        op_id,
        kind,
        actor: "alice",
        target,
        requested_listen_addr: listen_addr,
        expires_at: chrono::Utc::now() + chrono::Duration::minutes(10),
        edge_agent: None,
    };
    assert_eq!(db::leases::create_capped(&mut tx, &lease, 100).await.unwrap(), db::leases::Created::Created);
    tx.commit().await.unwrap();
    (op_id, lease_id)
}

async fn poll<T>(what: &str, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn operation(pool: &PgPool, op_id: OpId) -> OperationRow {
    poll("the operation to end", async || {
        db::operations::get(pool, op_id).await.unwrap().filter(|o| o.status().is_terminal())
    })
    .await
}

async fn lease(pool: &PgPool, id: Uuid) -> LeaseRow {
    db::leases::get(pool, id).await.unwrap().unwrap()
}

async fn lease_when(pool: &PgPool, id: Uuid, what: &str, pred: impl Fn(&LeaseRow) -> bool) -> LeaseRow {
    poll(what, async || Some(lease(pool, id).await).filter(|l| pred(l))).await
}

async fn logs(pool: &PgPool, id: Uuid) -> Vec<(String, String)> {
    let lines = db::leases::tail_logs(pool, id, 500).await.unwrap();
    lines.into_iter().map(|(_, stream, line)| (stream, line)).collect()
}

/// Wait until a log line of `stream` contains `needle`; returns it.
async fn log_line(pool: &PgPool, id: Uuid, stream: &str, needle: &str) -> String {
    poll(&format!("a {stream} line with {needle:?}"), async || {
        logs(pool, id).await.into_iter().find(|(s, l)| s == stream && l.contains(needle)).map(|(_, l)| l)
    })
    .await
}

/// Whether a process runs (a zombie has finished running).
fn running(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| stat[stat.rfind(')')? + 1..].split_whitespace().next().map(|s| s != "Z"))
        .unwrap_or(false)
}

async fn gone(pid: i32) {
    poll(&format!("process {pid} to be gone"), async || (!running(pid)).then_some(())).await;
}

async fn echo(addr: &str, payload: &[u8]) -> TcpStream {
    let mut conn = TcpStream::connect(addr).await.unwrap();
    conn.write_all(payload).await.unwrap();
    let mut buf = vec![0u8; payload.len()];
    tokio::time::timeout(DEADLINE, conn.read_exact(&mut buf)).await.unwrap().unwrap();
    assert_eq!(buf, payload, "echoed through {addr}");
    conn
}

async fn request_stop(pool: &PgPool, id: Uuid) {
    assert!(db::leases::request_stop(pool, id, "stop_proxy").await.unwrap());
}

#[tokio::test]
async fn a_db_proxy_lease_serves_logs_heartbeats_and_stops_on_request() {
    let mut stack = Stack::start(options(&[], true)).await.unwrap();
    let pool = stack.db.pool.clone();
    let (op_id, id) = start_proxy(&pool, LeaseKind::ProxyDb, json!({ "db": "orders" }), None).await;

    let op = operation(&pool, op_id).await;
    assert_eq!(op.status, "succeeded", "{:?}", op.error);
    let view = op.result.unwrap();
    assert_eq!((view["status"].as_str(), view["lease_id"].as_str()), (Some("active"), Some(id.to_string().as_str())));
    let addr = view["listen_addr"].as_str().unwrap().to_owned();
    let steps: Vec<String> = db::operations::progress_events(&pool, op_id)
        .await
        .unwrap()
        .iter()
        .map(|p| p["message"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(steps.len(), 3, "{steps:?}");
    assert!(steps[0].starts_with("lease taken") && steps[1].starts_with("process started (pid "), "{steps:?}");
    assert_eq!(steps[2], format!("listening on {addr}"));

    let row = lease(&pool, id).await;
    let pid = row.pid.unwrap();
    assert!(running(pid) && row.agent_id.is_some() && row.host.is_some());
    let start_time: Option<i64> = sqlx::query_scalar("SELECT pid_start_time FROM leases WHERE lease_id = $1")
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(start_time.and_then(|t| u64::try_from(t).ok()), mtcp_shared::teleport::proxy::process_start_time(pid));
    let _conn = echo(&addr, b"SELECT 1").await;
    // Always `--tunnel` (see docs/teleport.md): the startup line is the tunnel's.
    let started = format!(
        "Started authenticated tunnel for the PostgreSQL database \"orders\" in cluster \"teleport.example.com\" on {addr}."
    );
    log_line(&pool, id, "stdout", &started).await;
    log_line(&pool, id, "system", "lease active").await;
    let first = row.last_heartbeat_at.unwrap();
    lease_when(&pool, id, "a heartbeat", |l| l.last_heartbeat_at.is_some_and(|t| t > first)).await;

    request_stop(&pool, id).await;
    let t = Instant::now();
    let ended = lease_when(&pool, id, "the lease to stop", |l| l.status != LeaseStatus::Stopping).await;
    assert!(t.elapsed() < Duration::from_secs(3), "the notification reached the owner at once");
    assert_eq!((ended.status, ended.stop_reason.as_deref()), (LeaseStatus::Stopped, Some("stop_proxy")));
    gone(pid).await;
    log_line(&pool, id, "system", "stop requested (stop_proxy)").await;
    log_line(&pool, id, "system", "exited with code 0").await;
    assert!(TcpStream::connect(&addr).await.is_err(), "nothing listens any more");
    stack.stop().await;
}

#[tokio::test]
async fn a_proxy_that_exits_by_itself_fails_the_lease_with_its_exit_code() {
    let mut stack = Stack::start(options(&[("TELEPORT_SIM_PROXY_EXIT_AFTER_MS", "1500")], true)).await.unwrap();
    let pool = stack.db.pool.clone();
    let (op_id, id) = start_proxy(&pool, LeaseKind::ProxyApp, json!({ "app": "grafana" }), None).await;
    assert_eq!(operation(&pool, op_id).await.status, "succeeded");
    let pid = lease(&pool, id).await.pid.unwrap();
    let ended = lease_when(&pool, id, "the lease to end", |l| l.ended_at.is_some()).await;
    assert_eq!(
        (ended.status, ended.stop_reason.as_deref(), ended.exit_code),
        (LeaseStatus::Failed, Some("exited"), Some(3))
    );
    gone(pid).await;
    // The last lines say why.
    log_line(&pool, id, "stderr", "stopped unexpectedly").await;
    log_line(&pool, id, "system", "exited with code 3").await;
    stack.stop().await;
}

#[tokio::test]
async fn a_proxy_that_cannot_start_fails_the_lease_and_the_operation_with_teleports_message() {
    let mut stack = Stack::start(options(&[("TELEPORT_SIM_PROXY_FAIL", "1")], true)).await.unwrap();
    let pool = stack.db.pool.clone();
    let (op_id, id) = start_proxy(&pool, LeaseKind::ProxyDb, json!({ "db": "orders" }), None).await;
    let op = operation(&pool, op_id).await;
    assert_eq!(op.status, "failed");
    let error = op.error.unwrap();
    assert!(error.contains("connection refused") && error.contains("did not start"), "{error}");
    assert_eq!(op.exit_code, Some(1));
    let row = lease(&pool, id).await;
    assert_eq!(
        (row.status, row.stop_reason.as_deref(), row.exit_code),
        (LeaseStatus::Failed, Some("start_failed"), Some(1))
    );
    log_line(&pool, id, "stderr", "connection refused").await;
    log_line(&pool, id, "system", "start failed").await;
    stack.stop().await;
}

#[tokio::test]
async fn an_ssh_lease_bridges_each_connection_to_its_own_tsh_and_refuses_past_the_limit() {
    let mut stack = Stack::start(options(&[], true)).await.unwrap();
    let pool = stack.db.pool.clone();
    let (op_id, id) = start_proxy(&pool, LeaseKind::ProxySsh, json!({ "host": "ubuntu@web-01" }), None).await;
    let op = operation(&pool, op_id).await;
    assert_eq!(op.status, "succeeded", "{:?}", op.error);
    let addr = op.result.unwrap()["listen_addr"].as_str().unwrap().to_owned();
    let row = lease(&pool, id).await;
    assert_eq!(row.pid, Some(std::process::id() as i32), "the worker itself serves the lease");

    let mut one = echo(&addr, b"SSH-2.0-one\r\n").await;
    let two = echo(&addr, b"SSH-2.0-two\r\n").await;
    let mut pids = Vec::new();
    for n in [1, 2] {
        let line = log_line(&pool, id, "system", &format!("connection {n} from ")).await;
        let pid: i32 = line.rsplit("tsh pid ").next().unwrap().trim_end_matches(')').parse().unwrap();
        assert!(running(pid), "{line}");
        pids.push(pid);
    }
    // A third at once is over the limit (2): closed without a byte.
    let mut third = TcpStream::connect(&addr).await.unwrap();
    let mut buf = [0u8; 1];
    assert_eq!(tokio::time::timeout(DEADLINE, third.read(&mut buf)).await.unwrap().unwrap_or(0), 0);
    log_line(&pool, id, "system", "refused connection").await;

    // The client closing its side ends that connection's tsh.
    one.shutdown().await.unwrap();
    let mut rest = Vec::new();
    tokio::time::timeout(DEADLINE, one.read_to_end(&mut rest)).await.unwrap().unwrap();
    gone(pids[0]).await;
    log_line(&pool, id, "system", "connection 1 from").await;
    log_line(&pool, id, "system", "closed (tsh exited with code 0)").await;

    request_stop(&pool, id).await;
    let ended = lease_when(&pool, id, "the lease to stop", |l| l.ended_at.is_some()).await;
    assert_eq!(ended.status, LeaseStatus::Stopped);
    gone(pids[1]).await;
    drop(two);
    assert!(TcpStream::connect(&addr).await.is_err(), "the listener is closed");
    stack.stop().await;
}

#[tokio::test]
async fn a_lease_stopped_before_any_worker_started_it_ends_stopped_and_fails_the_operation() {
    let mut stack = Stack::start(options(&[], false)).await.unwrap();
    let pool = stack.db.pool.clone();
    let (op_id, id) = start_proxy(&pool, LeaseKind::ProxyDb, json!({ "db": "orders" }), None).await;
    request_stop(&pool, id).await;
    let worker = tokio::spawn(mtcp_worker::run(stack.config.clone(), stack.shutdown.clone()));
    let op = operation(&pool, op_id).await;
    assert_eq!(op.status, "failed");
    assert!(op.error.as_deref().unwrap().contains("stopped (stop_proxy) before it started"), "{:?}", op.error);
    let row = lease(&pool, id).await;
    assert_eq!((row.status, row.pid), (LeaseStatus::Stopped, None), "nothing was started");
    stack.stop().await;
    let _ = tokio::time::timeout(DEADLINE, worker).await;
}

#[tokio::test]
async fn stopping_the_worker_stops_its_leases() {
    let mut stack = Stack::start(options(&[("TELEPORT_SIM_IGNORE_SIGTERM", "1")], true)).await.unwrap();
    let pool = stack.db.pool.clone();
    let (op_id, id) = start_proxy(&pool, LeaseKind::ProxyMcp, json!({ "app": "mcp-fs" }), None).await;
    assert_eq!(operation(&pool, op_id).await.status, "succeeded");
    let pid = lease(&pool, id).await.pid.unwrap();
    stack.stop().await;
    let row = lease(&pool, id).await;
    assert_eq!((row.status, row.stop_reason.as_deref()), (LeaseStatus::Failed, Some("worker_shutdown")));
    assert!(!running(pid), "stopped before the worker returned");
    // SIGTERM was ignored: the group was killed after the grace period, and the logs say so.
    log_line(&pool, id, "system", "killed after the").await;
}

#[tokio::test]
async fn a_worker_killed_with_sigkill_takes_every_lease_process_with_it() {
    let mut stack = Stack::start(options(&[], false)).await.unwrap();
    let pool = stack.db.pool.clone();
    let mut worker = stack.worker_process();
    let mut leases = Vec::new();
    for (kind, target) in [
        (LeaseKind::ProxyDb, json!({ "db": "orders" })),
        (LeaseKind::ProxyApp, json!({ "app": "grafana" })),
        (LeaseKind::ProxySsh, json!({ "host": "web-01" })),
    ] {
        leases.push(start_proxy(&pool, kind, target, None).await);
    }
    let mut pids = Vec::new();
    let mut ssh = None;
    for (op_id, id) in &leases {
        let op = operation(&pool, *op_id).await;
        assert_eq!(op.status, "succeeded", "{:?}", op.error);
        let row = lease(&pool, *id).await;
        if row.kind == "proxy_ssh" {
            assert_eq!(row.pid, Some(worker.id() as i32));
            ssh = Some((echo(row.listen_addr.as_deref().unwrap(), b"hello").await, *id));
        } else {
            pids.push(row.pid.unwrap());
        }
    }
    let (_conn, ssh_id) = ssh.unwrap();
    let line = log_line(&pool, ssh_id, "system", "tsh pid ").await;
    pids.push(line.rsplit("tsh pid ").next().unwrap().trim_end_matches(')').parse().unwrap());
    assert!(pids.iter().all(|p| running(*p)), "{pids:?}");

    worker.kill().unwrap();
    let _ = worker.wait();
    let t = Instant::now();
    for pid in &pids {
        gone(*pid).await;
    }
    assert!(t.elapsed() < Duration::from_secs(5), "gone within {:?}", t.elapsed());
    stack.stop().await;
}

#[tokio::test]
async fn a_new_incarnation_kills_leftovers_by_pid_and_start_time_only() {
    use mtcp_shared::teleport::proxy::{process_start_time, proxy_args, start};
    let mut stack = Stack::start(options(&[], false)).await.unwrap();
    let pool = stack.db.pool.clone();
    // Two proxies "left" by a dead incarnation on this host since this boot: one recorded with
    // its real start time, one with another (its pid now names some other process).
    let runner = mtcp_shared::teleport::Runner::new(mtcp_worker::runner_settings(&stack.config, "leftovers")).unwrap();
    let target = mtcp_shared::domain::LeaseTarget::App { app: "grafana".into() };
    let args = proxy_args(&target, None);
    let mut left = start(&runner, LeaseKind::ProxyApp, &args, DEADLINE).await.unwrap();
    let mut decoy = start(&runner, LeaseKind::ProxyApp, &args, DEADLINE).await.unwrap();

    let dead = uuid::Uuid::new_v4();
    let host = hostname::get().unwrap().to_string_lossy().into_owned();
    let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap().trim().to_owned();
    sqlx::query(
        "INSERT INTO agents (agent_id, kind, host, boot_id, pid, version, status, offline_at)
         VALUES ($1, 'worker', $2, $3, 999999, 'old', 'offline', now())",
    )
    .bind(dead)
    .bind(&host)
    .bind(&boot_id)
    .execute(&pool)
    .await
    .unwrap();
    let mut ids = Vec::new();
    for (s, start_time) in [
        (&left, process_start_time(left.pgid).unwrap() as i64),
        (&decoy, process_start_time(decoy.pgid).unwrap() as i64 + 1),
    ] {
        let (_, id) = start_proxy(&pool, LeaseKind::ProxyApp, json!({ "app": "grafana" }), None).await;
        let mut conn = pool.acquire().await.unwrap();
        assert!(
            db::leases::activate(&mut *conn, id, dead, &host, s.pgid, start_time, Some("127.0.0.1:1")).await.unwrap()
        );
        ids.push(id);
    }
    // The start calls were taken care of by the "dead" worker: they ended.
    sqlx::query("UPDATE operations SET status = 'succeeded', result = '{}', ended_at = now(), payload = NULL")
        .execute(&pool)
        .await
        .unwrap();

    let worker = tokio::spawn(mtcp_worker::run(stack.config.clone(), stack.shutdown.clone()));
    let status = tokio::time::timeout(DEADLINE, left.child.wait()).await.expect("the leftover is killed").unwrap();
    assert_eq!(status.code(), None, "killed by a signal");
    let row = lease_when(&pool, ids[0], "the leftover's lease to end", |l| l.ended_at.is_some()).await;
    assert_eq!((row.status, row.stop_reason.as_deref()), (LeaseStatus::Failed, Some("owner_lost")));
    let decoy_row = lease_when(&pool, ids[1], "the decoy's lease to end", |l| l.ended_at.is_some()).await;
    assert_eq!(decoy_row.stop_reason.as_deref(), Some("owner_lost"));
    assert!(running(decoy.pgid), "a pid whose start time differs is never killed");
    let _ = decoy.child.start_kill();
    let _ = decoy.child.wait().await;
    stack.stop().await;
    let _ = tokio::time::timeout(DEADLINE, worker).await;
}
