//! Proxy leases end to end through a real MCP client: every kind starts, serves on the address it
//! reports, logs, and stops; TTL expiry stops the process; the per-actor cap holds under 100
//! concurrent starts; callers see only their own leases; a worker killed -9 leaves no process.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mtcp_tests::client::text_of;
use mtcp_tests::{McpClient, Stack, StackOptions};
use serde_json::{Value, json};

fn alive(pid: i64) -> bool {
    // A zombie is a process that is gone but not yet reaped by its parent.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| s.rsplit(')').next().is_some_and(|rest| !rest.trim_start().starts_with('Z')))
}

async fn start(client: &McpClient, args: Value) -> Value {
    let r = client.call("start_proxy", args.clone()).await.unwrap();
    assert_eq!(r.is_error, Some(false), "start_proxy {args}: {}", text_of(&r));
    r.structured_content.unwrap()
}

async fn status(client: &McpClient, lease_id: &str) -> Value {
    let r = client.call("get_proxy_status", json!({ "lease_id": lease_id })).await.unwrap();
    assert_eq!(r.is_error, Some(false), "{}", text_of(&r));
    r.structured_content.unwrap()
}

/// Poll the lease until `done` holds, for at most `within`.
async fn wait_for(client: &McpClient, lease_id: &str, within: Duration, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let s = status(client, lease_id).await;
        if done(&s) || Instant::now() > deadline {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Send a line through a lease's listener and read it back (the simulator's proxies echo). Async:
/// a `proxy_ssh` lease is bridged by the in-process worker, on this test's runtime.
async fn echo_through(addr: &str, text: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap_or_else(|e| panic!("connecting to {addr}: {e}"));
    conn.write_all(text.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; text.len()];
    tokio::time::timeout(Duration::from_secs(5), conn.read_exact(&mut buf))
        .await
        .unwrap_or_else(|_| panic!("no echo of {text:?} through {addr} within 5 s"))
        .unwrap();
    String::from_utf8(buf).unwrap()
}

async fn logs(client: &McpClient, lease_id: &str) -> String {
    let r = client.call("get_proxy_logs", json!({ "lease_id": lease_id })).await.unwrap();
    assert_eq!(r.is_error, Some(false), "{}", text_of(&r));
    let lines = r.structured_content.unwrap()["lines"].as_array().cloned().unwrap();
    lines
        .iter()
        .map(|l| format!("{} {}", l["stream"].as_str().unwrap(), l["line"].as_str().unwrap()))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn every_kind_starts_serves_logs_and_stops() {
    // The simulated tsh runs where VNet exists (macOS); on Linux it refuses (see teleport_versions.rs).
    let sim_env = BTreeMap::from([("TELEPORT_SIM_OS".to_owned(), "darwin".to_owned())]);
    let mut stack = Stack::start(StackOptions { sim_env, ..Default::default() }).await.unwrap();
    let op = stack.client("operator").await.unwrap();
    let kinds = [
        json!({ "kind": "proxy_db", "target": { "db": "orders", "db_user": "ro" } }),
        json!({ "kind": "proxy_app", "target": { "app": "grafana" } }),
        json!({ "kind": "proxy_mcp", "target": { "app": "mcp-everything" } }),
        json!({ "kind": "proxy_kube", "target": { "kube_cluster": "prod-eks" } }),
        json!({ "kind": "proxy_ssh", "target": { "host": "ubuntu@web-01" } }),
        json!({ "kind": "vnet" }),
    ];
    for mut args in kinds {
        let kind = args["kind"].as_str().unwrap().to_owned();
        args["reason"] = json!("lease e2e");
        args["ttl_seconds"] = json!(300);
        let lease = start(&op, args).await;
        let id = lease["lease_id"].as_str().unwrap().to_owned();
        assert_eq!(lease["status"], "active", "{kind}: {lease}");
        assert!(lease["expires_in_seconds"].as_i64().unwrap() > 290, "{kind}: {lease}");
        if kind == "vnet" {
            assert!(lease.get("listen_addr").is_none(), "vnet has no address: {lease}");
        } else {
            let addr = lease["listen_addr"].as_str().unwrap_or_else(|| panic!("{kind} has no address: {lease}"));
            assert!(addr.starts_with("127.0.0.1:"), "{kind}: {addr}");
            assert_eq!(echo_through(addr, &format!("hello {kind}\n")).await, format!("hello {kind}\n"), "{kind}");
            if kind == "proxy_ssh" {
                // Each connection has its own `tsh proxy ssh`.
                assert_eq!(echo_through(addr, "second\n").await, "second\n");
            }
        }
        if kind == "proxy_kube" {
            // Usable only through the kubeconfig tsh wrote, on the worker's host.
            let path = lease["kubeconfig"].as_str().unwrap_or_else(|| panic!("no kubeconfig: {lease}"));
            assert!(path.ends_with("-kubeconfig") && std::path::Path::new(path).exists(), "{lease}");
            assert!(lease["usage"].as_str().unwrap().contains("worker's host"), "{lease}");
        } else {
            assert!(lease.get("kubeconfig").is_none(), "{kind}: {lease}");
        }
        let pid = lease["pid"].as_i64().unwrap();
        if kind != "proxy_ssh" {
            assert!(alive(pid), "{kind}: the process runs");
        }
        let listed = op.call("list_proxies_leases", json!({})).await.unwrap().structured_content.unwrap();
        assert!(listed["leases"].as_array().unwrap().iter().any(|l| l["lease_id"] == id.as_str()), "{listed}");

        let stopped = op.call("stop_proxy", json!({ "lease_id": id, "reason": "done" })).await.unwrap();
        assert_eq!(stopped.is_error, Some(false), "{}", text_of(&stopped));
        let stopped = stopped.structured_content.unwrap();
        assert_eq!(
            (stopped["status"].as_str(), stopped["stop_reason"].as_str()),
            (Some("stopped"), Some("stop_proxy"))
        );
        if kind != "proxy_ssh" {
            assert!(!alive(pid), "{kind}: process {pid} outlived its lease");
        }
        let text = logs(&op, &id).await;
        assert!(text.contains("stop_proxy by dev-operator: done"), "{kind} logs:\n{text}");
        if kind == "proxy_db" {
            // Always `--tunnel`: the tunnel authenticates for the consumer.
            assert!(text.contains("Started authenticated tunnel for the PostgreSQL database \"orders\""), "{text}");
        }
        if kind != "vnet" {
            // The simulator logs a line per accepted connection on stderr.
            assert!(text.contains("stderr"), "{kind} logs hold the process's own lines:\n{text}");
        }
        // Stopping again is harmless and says how it ended.
        let again = op.call("stop_proxy", json!({ "lease_id": id })).await.unwrap();
        assert_eq!(again.structured_content.unwrap()["status"], "stopped");
        let live = op.call("list_proxies_leases", json!({})).await.unwrap().structured_content.unwrap();
        assert!(live["leases"].as_array().unwrap().iter().all(|l| l["lease_id"] != id.as_str()), "{live}");
    }
    let all = op.call("list_proxies_leases", json!({ "active_only": false })).await.unwrap();
    assert_eq!(all.structured_content.unwrap()["count"], 6);
    stack.stop().await;
}

#[tokio::test]
async fn bad_arguments_and_policy_limits_are_refused_with_the_reason() {
    let mut stack = Stack::start(StackOptions::default()).await.unwrap();
    let user = stack.client("user").await.unwrap();
    for (args, needle) in [
        (json!({ "kind": "telnet", "reason": "x" }), "kind"),
        (json!({ "kind": "proxy_db", "reason": "x" }), "target.db"),
        (json!({ "kind": "proxy_db", "target": { "db": "--tunnel" }, "reason": "x" }), "target.db"),
        (
            json!({ "kind": "proxy_app", "target": { "app": "a" }, "listen_addr": "0.0.0.0:80", "reason": "x" }),
            "loopback",
        ),
        (json!({ "kind": "vnet", "listen_addr": "127.0.0.1:0", "reason": "x" }), "listen_addr"),
        (json!({ "kind": "proxy_app", "target": { "app": "a" } }), "reason"),
        (json!({ "kind": "proxy_app", "target": { "app": "a" }, "ttl_seconds": 0, "reason": "x" }), "ttl_seconds"),
        // The user role: at most half the default TTL, no VNet.
        (
            json!({ "kind": "proxy_app", "target": { "app": "a" }, "ttl_seconds": 3600, "reason": "x" }),
            "1800 s maximum",
        ),
        (json!({ "kind": "vnet", "reason": "x" }), "may not start vnet"),
        // A privileged port on loopback could stand in for a local service.
        (
            json!({ "kind": "proxy_app", "target": { "app": "a" }, "listen_addr": "127.0.0.1:22", "reason": "x" }),
            "below 1024",
        ),
        // `*` never matches root, and one login only.
        (
            json!({ "kind": "proxy_ssh", "target": { "host": "root@web-01" }, "reason": "x" }),
            "may not log in as \"root\"",
        ),
        (
            json!({ "kind": "proxy_ssh", "target": { "host": "ubuntu@root@web-01" }, "reason": "x" }),
            "more than one `@`",
        ),
        (json!({ "kind": "proxy_ssh", "target": { "host": "-oProxy@web-01" }, "reason": "x" }), "login"),
    ] {
        let r = user.call("start_proxy", args.clone()).await.unwrap();
        assert_eq!(r.is_error, Some(true), "{args}");
        assert!(text_of(&r).contains(needle), "{args}: {}", text_of(&r));
    }
    for (tool, args, needle) in [
        ("get_proxy_status", json!({ "lease_id": "nope" }), "lease_id"),
        ("get_proxy_logs", json!({ "lease_id": uuid::Uuid::nil(), "tail": 5000 }), "tail"),
        ("stop_proxy", json!({ "lease_id": uuid::Uuid::nil() }), "no lease"),
        ("list_proxies_leases", json!({ "active_only": "yes" }), "active_only"),
    ] {
        let r = user.call(tool, args.clone()).await.unwrap();
        assert_eq!(r.is_error, Some(true), "{tool} {args}");
        assert!(text_of(&r).contains(needle), "{tool} {args}: {}", text_of(&r));
    }
    let leases: i64 = sqlx::query_scalar("SELECT count(*) FROM leases").fetch_one(&stack.db.pool).await.unwrap();
    assert_eq!(leases, 0, "nothing refused left a lease");
    stack.stop().await;
}

#[tokio::test]
async fn users_see_and_stop_only_their_own_leases() {
    let mut stack = Stack::start(StackOptions::default()).await.unwrap();
    let user = stack.client("user").await.unwrap();
    let operator = stack.client("operator").await.unwrap();
    let admin = stack.client("admin").await.unwrap();
    let args = json!({ "kind": "proxy_app", "target": { "app": "grafana" }, "ttl_seconds": 600, "reason": "own" });
    let mine = start(&user, args.clone()).await["lease_id"].as_str().unwrap().to_owned();
    let theirs = start(&operator, args).await["lease_id"].as_str().unwrap().to_owned();
    for tool in ["get_proxy_status", "get_proxy_logs", "stop_proxy"] {
        let r = user.call(tool, json!({ "lease_id": theirs })).await.unwrap();
        assert!(text_of(&r).contains("no lease"), "{tool}: {}", text_of(&r));
    }
    let listed = user.call("list_proxies_leases", json!({})).await.unwrap().structured_content.unwrap();
    let ids: Vec<&str> = listed["leases"].as_array().unwrap().iter().map(|l| l["lease_id"].as_str().unwrap()).collect();
    assert_eq!(ids, [mine.as_str()]);
    let everything = admin.call("list_proxies_leases", json!({})).await.unwrap().structured_content.unwrap();
    assert_eq!(everything["count"], 2);
    assert_eq!(status(&operator, &theirs).await["status"], "active", "the user's attempt changed nothing");
    let r = admin.call("stop_proxy", json!({ "lease_id": theirs, "reason": "admin cleanup" })).await.unwrap();
    assert_eq!(r.structured_content.unwrap()["status"], "stopped");
    let r = user.call("stop_proxy", json!({ "lease_id": mine })).await.unwrap();
    assert_eq!(r.structured_content.unwrap()["status"], "stopped", "a stop needs no reason");
    stack.stop().await;
}

#[tokio::test]
async fn a_lease_past_its_ttl_is_expired_and_its_process_stopped() {
    let mut stack = Stack::start(StackOptions::default()).await.unwrap();
    let op = stack.client("operator").await.unwrap();
    let lease =
        start(&op, json!({ "kind": "proxy_db", "target": { "db": "orders" }, "ttl_seconds": 2, "reason": "ttl" }))
            .await;
    let id = lease["lease_id"].as_str().unwrap();
    let pid = lease["pid"].as_i64().unwrap();
    assert!(alive(pid));
    let ended = wait_for(&op, id, Duration::from_secs(15), |s| s["live"] == false).await;
    assert_eq!(
        (ended["status"].as_str(), ended["stop_reason"].as_str()),
        (Some("expired"), Some("expired")),
        "{ended}"
    );
    assert!(!alive(pid), "process {pid} outlived its TTL");
    let text = logs(&op, id).await;
    assert!(text.contains("expired"), "the expiry is in the lease's logs:\n{text}");
    stack.stop().await;
}

#[tokio::test]
async fn a_proxy_that_exits_or_cannot_start_fails_its_lease_with_teleports_words() {
    let sim_env = BTreeMap::from([("TELEPORT_SIM_PROXY_EXIT_AFTER_MS".to_owned(), "500".to_owned())]);
    let mut stack = Stack::start(StackOptions { sim_env, ..Default::default() }).await.unwrap();
    let op = stack.client("operator").await.unwrap();
    let lease = start(&op, json!({ "kind": "proxy_app", "target": { "app": "grafana" }, "reason": "exit" })).await;
    let id = lease["lease_id"].as_str().unwrap();
    let ended = wait_for(&op, id, Duration::from_secs(10), |s| s["live"] == false).await;
    assert_eq!((ended["status"].as_str(), ended["exit_code"].as_i64()), (Some("failed"), Some(3)), "{ended}");
    stack.stop().await;

    let sim_env = BTreeMap::from([("TELEPORT_SIM_PROXY_FAIL".to_owned(), "1".to_owned())]);
    let mut stack = Stack::start(StackOptions { sim_env, ..Default::default() }).await.unwrap();
    let op = stack.client("operator").await.unwrap();
    let r = op
        .call("start_proxy", json!({ "kind": "proxy_db", "target": { "db": "orders" }, "reason": "fail" }))
        .await
        .unwrap();
    assert_eq!(r.is_error, Some(true));
    let text = text_of(&r);
    assert!(text.contains("start_proxy failed"), "{text}");
    let all =
        op.call("list_proxies_leases", json!({ "active_only": false })).await.unwrap().structured_content.unwrap();
    let lease = &all["leases"][0];
    assert_eq!(
        (lease["status"].as_str(), lease["stop_reason"].as_str()),
        (Some("failed"), Some("start_failed")),
        "{all}"
    );
    stack.stop().await;
}

#[tokio::test]
async fn a_hundred_concurrent_starts_by_one_actor_leave_exactly_the_cap() {
    let tweak: mtcp_tests::Tweak = Arc::new(|c| c.policy.rate_limit_per_minute = 0);
    let mut stack = Stack::start(StackOptions { tweak: Some(tweak), ..Default::default() }).await.unwrap();
    let clients: Vec<McpClient> = futures::future::join_all((0..4).map(|_| stack.client("operator")))
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let args = json!({ "kind": "proxy_app", "target": { "app": "grafana" }, "ttl_seconds": 600, "reason": "race" });
    let results = futures::future::join_all((0..100).map(|i| clients[i % 4].call("start_proxy", args.clone()))).await;
    let (mut ok, mut capped) = (0, 0);
    for r in results {
        let r = r.unwrap();
        if r.is_error == Some(false) {
            ok += 1;
        } else if text_of(&r).contains("you hold 10 live proxy leases") {
            capped += 1;
        } else {
            panic!("neither started nor capped: {}", text_of(&r));
        }
    }
    assert_eq!((ok, capped), (10, 90));
    let live: i64 = sqlx::query_scalar("SELECT count(*) FROM leases WHERE actor = 'dev-operator'")
        .fetch_one(&stack.db.pool)
        .await
        .unwrap();
    assert_eq!(live, 10, "refused starts leave no lease row");
    let denied: i64 =
        sqlx::query_scalar("SELECT count(*) FROM operations WHERE tool = 'start_proxy' AND status = 'denied'")
            .fetch_one(&stack.db.pool)
            .await
            .unwrap();
    assert_eq!(denied, 90, "every refusal is recorded");
    stack.stop().await;
}

#[tokio::test]
async fn a_worker_killed_with_sigkill_leaves_no_proxy_process_and_its_leases_fail() {
    let opts = StackOptions { worker: false, ..Default::default() };
    let mut stack = Stack::start(opts).await.unwrap();
    let mut worker = stack.worker_process();
    let admin = stack.client("admin").await.unwrap();
    let mut leases = Vec::new();
    for i in 0..10 {
        let kind = if i % 2 == 0 {
            json!({ "kind": "proxy_db", "target": { "db": "orders" } })
        } else {
            json!({ "kind": "proxy_app", "target": { "app": "grafana" } })
        };
        let mut args = kind;
        args["reason"] = json!("crash");
        leases.push(start(&admin, args).await);
    }
    let pids: Vec<i64> = leases.iter().map(|l| l["pid"].as_i64().unwrap()).collect();
    assert!(pids.iter().all(|p| alive(*p)));
    worker.kill().unwrap();
    let _ = worker.wait();
    let killed = Instant::now();
    let deadline = killed + Duration::from_secs(5);
    while pids.iter().any(|p| alive(*p)) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let survivors: Vec<&i64> = pids.iter().filter(|p| alive(**p)).collect();
    assert!(survivors.is_empty(), "proxy processes outlived their worker: {survivors:?}");
    eprintln!("all {} proxy processes gone {:?} after kill -9", pids.len(), killed.elapsed());
    // Once the owner is past the offline threshold, the reaper fails its leases.
    for l in &leases {
        let s =
            wait_for(&admin, l["lease_id"].as_str().unwrap(), Duration::from_secs(20), |s| s["live"] == false).await;
        assert_eq!((s["status"].as_str(), s["stop_reason"].as_str()), (Some("failed"), Some("owner_lost")), "{s}");
    }
    stack.stop().await;
}

/// Each lease records the configured cluster it runs on (`default` for the single-cluster
/// sections), whatever cluster its identity's certificate names: the name routing and policy use.
/// The lease's `tsh` command line is kept with its start operation.
#[tokio::test]
async fn a_lease_records_its_cluster_and_its_command_line() {
    let mut stack = Stack::start(StackOptions::default()).await.unwrap();
    let op = stack.client("operator").await.unwrap();
    let cluster_of = |id: String| {
        let pool = stack.db.pool.clone();
        async move {
            let id: uuid::Uuid = id.parse().unwrap();
            sqlx::query_scalar::<_, Option<String>>("SELECT cluster FROM leases WHERE lease_id = $1")
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let args = json!({ "kind": "proxy_db", "target": { "db": "orders" }, "reason": "cluster" });
    let first = start(&op, args.clone()).await;
    assert_eq!(cluster_of(first["lease_id"].as_str().unwrap().to_owned()).await.as_deref(), Some("default"));

    let identity = stack.config.teleport.identity_file.clone().unwrap();
    std::fs::write(&identity, mtcp_tests::identity_file("prod.example.com", "bot-mtcp", chrono::Duration::days(1)))
        .unwrap();
    let second = start(&op, args).await;
    let id = second["lease_id"].as_str().unwrap().to_owned();
    assert_eq!(cluster_of(id.clone()).await.as_deref(), Some("default"));

    let op_id: uuid::Uuid = sqlx::query_scalar("SELECT op_id FROM leases WHERE lease_id = $1")
        .bind(id.parse::<uuid::Uuid>().unwrap())
        .fetch_one(&stack.db.pool)
        .await
        .unwrap();
    let runs: Value = sqlx::query_scalar("SELECT runs FROM operations WHERE op_id = $1")
        .bind(op_id)
        .fetch_one(&stack.db.pool)
        .await
        .unwrap();
    let argv =
        |run: &Value| run["argv"].as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect::<Vec<_>>().join(" ");
    // First the check that the cluster has the database, then the proxy.
    assert!(argv(&runs[0]).starts_with("tctl ") && argv(&runs[0]).contains("get db_server"), "{runs}");
    let line = argv(&runs[1]);
    assert!(line.starts_with("tsh ") && line.contains("proxy db") && line.contains("orders"), "{runs}");
    assert_eq!(runs[1]["outcome"], "started", "{runs}");
    stack.stop().await;
}
