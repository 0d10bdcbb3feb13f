//! Edge agents end to end: a real `mtcp-edge` process (the simulator's `tsh` at the edge) against a
//! real gateway. The owner's lease runs on her agent and its port answers there; logs come back;
//! `stop_proxy` and expiry kill the process; another actor is refused her agent; kill -9 of the agent
//! takes its proxies with it and the lease ends `failed/owner_lost`; cut off from the gateway, the
//! agent kills its proxies; a revoked credential is refused.

mod reaper_support;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mtcp_tests::client::text_of;
use mtcp_tests::process::binary;
use mtcp_tests::{McpClient, Stack, StackOptions};
use serde_json::{Value, json};

fn alive(pid: i64) -> bool {
    // A zombie is a process that is gone but not yet reaped by its parent.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| s.rsplit(')').next().is_some_and(|rest| !rest.trim_start().starts_with('Z')))
}

async fn echo_through(addr: &str, text: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap_or_else(|e| panic!("connecting to {addr}: {e}"));
    conn.write_all(text.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; text.len()];
    tokio::time::timeout(Duration::from_secs(5), conn.read_exact(&mut buf)).await.unwrap().unwrap();
    String::from_utf8(buf).unwrap()
}

/// `mtcp edge …` on the stack's database.
fn mtcp_edge(stack: &Stack, args: &[&str]) -> (bool, String) {
    let out = Command::new(binary("mtcp"))
        .arg("edge")
        .args(args)
        .env("DATABASE_URL", &stack.db.url)
        .env_remove("MTCP_CONFIG")
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// An edge agent named `name` for `owner`: its credential file, and the agent process once spawned.
struct Edge {
    name: String,
    credential: PathBuf,
    state: PathBuf,
    child: Option<Child>,
}

impl Edge {
    fn create(stack: &Stack, name: &str, owner: &str) -> Self {
        let (ok, out) = mtcp_edge(stack, &["create", "--name", name, "--owner", owner]);
        assert!(ok, "{out}");
        // The credential is alone on the last line.
        let credential = out.lines().last().unwrap().trim().to_owned();
        let dir = stack.dir.path().join(format!("edge-{name}"));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("credential");
        std::fs::write(&path, format!("{credential}\n")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        Self { name: name.to_owned(), credential: path, state: dir.join("state"), child: None }
    }

    fn spawn(&mut self, stack: &Stack) {
        let c = &stack.config;
        let child = Command::new(binary("mtcp-edge"))
            .args(["--gateway", &stack.base, "--name", &self.name, "--stop-grace", "1s", "--log-level", "info"])
            .arg("--credential-file")
            .arg(&self.credential)
            .arg("--tsh-path")
            .arg(&c.tsh.tsh_path)
            .arg("--identity-file")
            .arg(c.teleport.identity_file.as_ref().unwrap())
            .args(["--proxy", c.teleport.proxy.as_deref().unwrap()])
            .arg("--state-dir")
            .arg(&self.state)
            // The simulator's own knobs (its state directory), as the workers' `tsh` gets them.
            .envs(c.teleport.env.iter().filter(|(k, _)| k.starts_with("TELEPORT_SIM_")))
            .stdout(Stdio::null())
            // A file, not a pipe: nobody reading a pipe must not block the agent.
            .stderr(std::fs::File::create(self.log()).unwrap())
            .spawn()
            .expect("starting mtcp-edge");
        self.child = Some(child);
    }

    fn log(&self) -> PathBuf {
        self.credential.with_file_name("agent.log")
    }

    /// Wait until `client` sees the agent online.
    async fn online(&self, client: &McpClient) {
        for _ in 0..100 {
            let list = client.call("list_edge_agents", json!({})).await.unwrap().structured_content.unwrap();
            if list["agents"].as_array().unwrap().iter().any(|a| a["name"] == self.name.as_str() && a["online"] == true)
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("edge agent {} never came online", self.name);
    }

    fn kill9(&mut self) {
        let child = self.child.as_mut().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// What the agent printed on stderr, once it exited (waits up to `within`).
    async fn exit_and_stderr(&mut self, within: Duration) -> (Option<i32>, String) {
        let log = self.log();
        let child = self.child.as_mut().unwrap();
        let deadline = Instant::now() + within;
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            let printed = std::fs::read_to_string(&log).unwrap_or_default();
            assert!(Instant::now() < deadline, "mtcp-edge did not exit within {within:?}: {printed}");
            // Not a thread sleep: the gateway answering the agent runs on this test's runtime.
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        (status.code(), std::fs::read_to_string(&log).unwrap_or_default())
    }
}

impl Drop for Edge {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn db_on(edge: &str, ttl: u64) -> Value {
    json!({ "kind": "proxy_db", "target": { "db": "orders", "db_user": "ro" }, "edge_agent": edge,
            "ttl_seconds": ttl, "reason": "edge e2e" })
}

async fn start(client: &McpClient, args: Value) -> Value {
    let r = client.call("start_proxy", args.clone()).await.unwrap();
    assert_eq!(r.is_error, Some(false), "start_proxy {args}: {}", text_of(&r));
    r.structured_content.unwrap()
}

/// Poll the lease until `done` holds, for at most `within`.
async fn wait_for(client: &McpClient, lease_id: &str, within: Duration, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let r = client.call("get_proxy_status", json!({ "lease_id": lease_id })).await.unwrap();
        let v = r.structured_content.unwrap_or_default();
        if done(&v) || Instant::now() > deadline {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_dead(pid: i64, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while alive(pid) {
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    true
}

#[tokio::test]
async fn the_owner_runs_a_proxy_on_her_agent_and_the_control_plane_keeps_its_lifecycle() {
    let mut stack = Stack::start(StackOptions::default()).await.unwrap();
    let mut edge = Edge::create(&stack, "alice-laptop", "dev-user");
    edge.spawn(&stack);
    let alice = stack.client("user").await.unwrap();
    edge.online(&alice).await;

    let lease = start(&alice, db_on("alice-laptop", 300)).await;
    assert_eq!(
        (lease["status"].as_str(), lease["edge_agent"].as_str()),
        (Some("active"), Some("alice-laptop")),
        "{lease}"
    );
    let addr = lease["listen_addr"].as_str().unwrap();
    assert_eq!(echo_through(addr, "hello edge\n").await, "hello edge\n", "the port accepts on the agent's host");
    let pid = lease["pid"].as_i64().unwrap();
    assert!(alive(pid));
    let id = lease["lease_id"].as_str().unwrap().to_owned();
    // The agent ships tsh's lines in batches after it reports the start: wait for them.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let logs = loop {
        let logs = alice.call("get_proxy_logs", json!({ "lease_id": id })).await.unwrap().structured_content.unwrap();
        let lines = logs["lines"].as_array().unwrap();
        if lines.iter().any(|l| l["stream"] == "stdout") || tokio::time::Instant::now() > deadline {
            break logs;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(logs.to_string().contains("started on edge agent alice-laptop"), "{logs}");
    let streams: Vec<&str> = logs["lines"].as_array().unwrap().iter().filter_map(|l| l["stream"].as_str()).collect();
    assert!(streams.contains(&"stdout"), "what tsh printed at the edge comes back: {logs}");

    // Bob (an operator, not an admin) may not use Alice's agent; nobody may use an unknown one.
    let bob = stack.client("operator").await.unwrap();
    let denied = bob.call("start_proxy", db_on("alice-laptop", 300)).await.unwrap();
    assert!(text_of(&denied).contains("serves its owner (dev-user) and admins only"), "{}", text_of(&denied));
    let unknown = alice.call("start_proxy", db_on("nobodys-laptop", 300)).await.unwrap();
    assert!(text_of(&unknown).contains("no edge agent"), "{}", text_of(&unknown));
    let vnet = alice.call("start_proxy", json!({ "kind": "vnet", "edge_agent": "alice-laptop", "reason": "x" })).await;
    assert!(text_of(&vnet.unwrap()).contains("cannot run on an edge agent"));

    // stop_proxy kills the process at the edge.
    let stopped = alice.call("stop_proxy", json!({ "lease_id": id })).await.unwrap();
    assert_eq!(stopped.is_error, Some(false), "{}", text_of(&stopped));
    let v = wait_for(&alice, &id, Duration::from_secs(10), |v| v["live"] == false).await;
    assert_eq!((v["status"].as_str(), v["stop_reason"].as_str()), (Some("stopped"), Some("stop_proxy")), "{v}");
    assert!(wait_dead(pid, Duration::from_secs(5)).await, "process {pid} outlived its lease");

    // Expiry too.
    let short = start(&alice, db_on("alice-laptop", 3)).await;
    let (short_id, short_pid) = (short["lease_id"].as_str().unwrap().to_owned(), short["pid"].as_i64().unwrap());
    let v = wait_for(&alice, &short_id, Duration::from_secs(15), |v| v["live"] == false).await;
    assert_eq!(v["status"], "expired", "{v}");
    assert!(wait_dead(short_pid, Duration::from_secs(5)).await, "process {short_pid} outlived its expiry");
    stack.stop().await;
}

#[tokio::test]
async fn killing_the_agent_takes_its_proxies_and_the_lease_ends_owner_lost() {
    let mut stack = Stack::start(StackOptions::default()).await.unwrap();
    let mut edge = Edge::create(&stack, "jumpbox", "dev-user");
    edge.spawn(&stack);
    let alice = stack.client("user").await.unwrap();
    edge.online(&alice).await;
    let lease = start(&alice, db_on("jumpbox", 300)).await;
    let (id, pid) = (lease["lease_id"].as_str().unwrap().to_owned(), lease["pid"].as_i64().unwrap());
    edge.kill9();
    assert!(wait_dead(pid, Duration::from_secs(5)).await, "the proxy outlived its agent (kill -9)");
    // The reaper marks the silent agent offline after `reaper.agent_offline_after` (5 s here).
    let v = wait_for(&alice, &id, Duration::from_secs(20), |v| v["live"] == false).await;
    assert_eq!((v["status"].as_str(), v["stop_reason"].as_str()), (Some("failed"), Some("owner_lost")), "{v}");
    stack.stop().await;
}

#[tokio::test]
async fn cut_off_from_the_gateway_the_agent_fails_closed_and_a_revoked_credential_is_refused() {
    let mut stack = Stack::start(StackOptions::default()).await.unwrap();
    let mut edge = Edge::create(&stack, "vdi-7", "dev-user");
    edge.spawn(&stack);
    let alice = stack.client("user").await.unwrap();
    edge.online(&alice).await;
    let lease = start(&alice, db_on("vdi-7", 300)).await;
    let pid = lease["pid"].as_i64().unwrap();

    // A revoked credential is refused at once, and the agent stops.
    let mut revoked = Edge::create(&stack, "old-laptop", "dev-user");
    let (ok, out) = mtcp_edge(&stack, &["revoke", "old-laptop"]);
    assert!(ok, "{out}");
    revoked.spawn(&stack);
    let (code, err) = revoked.exit_and_stderr(Duration::from_secs(10)).await;
    assert_ne!(code, Some(0), "{err}");
    assert!(err.contains("revoked") || err.contains("refused"), "{err}");
    let cred = std::fs::read_to_string(&revoked.credential).unwrap();
    let r = reqwest::Client::new()
        .post(format!("{}/edge/v1/register", stack.base))
        .bearer_auth(cred.trim())
        .json(&json!({ "host": "h", "boot_id": "b", "pid": 1, "version": "v" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // The control plane goes away: after `edge.fail_closed_after` (4 s here) the agent kills its proxy.
    stack.stop().await;
    assert!(wait_dead(pid, Duration::from_secs(15)).await, "the proxy outlived the agent's fail-closed deadline");
    let log = std::fs::read_to_string(edge.log()).unwrap();
    assert!(log.contains("fail-closed"), "{log}");
    edge.kill9();
}

#[tokio::test]
async fn a_lease_placed_on_an_agent_that_never_comes_fails_saying_so() {
    let mut stack = Stack::start(StackOptions::default()).await.unwrap();
    let _edge = Edge::create(&stack, "closet-pc", "dev-user");
    let alice = stack.client("user").await.unwrap();
    let call = tokio::spawn(async move { alice.call("start_proxy", db_on("closet-pc", 300)).await.unwrap() });
    // Queued on the edge lane: no worker takes it, and the agent is not running.
    let mut queued = 0;
    for _ in 0..100 {
        queued =
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM operations WHERE lane = 'edge' AND status = 'queued'")
                .fetch_one(&stack.db.pool)
                .await
                .unwrap();
        if queued == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(queued, 1);
    let later = chrono::Utc::now() + chrono::Duration::minutes(3);
    let report = reaper_support::reaper(&stack.db.pool).run_once(later).await.unwrap();
    assert_eq!(report.leases_never_started, 1);
    let answer = call.await.unwrap();
    assert!(
        text_of(&answer).contains("edge agent closet-pc (offline?) did not take this start"),
        "{}",
        text_of(&answer)
    );
    stack.stop().await;
}
