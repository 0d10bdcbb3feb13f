//! Several clusters end to end: two simulated clusters (their own state files, state directories
//! and identities), two `mtcp-worker` processes each serving one, calls routed by `cluster`, a
//! lease on staging, a role limited to staging refused on prod with the rule named, one cluster's
//! worker stopped while the other goes on serving, and each cluster's audit events searched apart.

use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::Arc;
use std::time::Duration;

use mtcp_shared::config::{ApiKeyEntry, ClusterConfig, IngestKey};
use mtcp_shared::domain::ActorKind;
use mtcp_tests::client::text_of;
use mtcp_tests::console::{post_sign_in, set_cookies};
use mtcp_tests::{McpClient, Stack, StackOptions, Tweak};
use reqwest::header::COOKIE;
use serde_json::{Value, json};

const STAGING_KEY: &str = "staging-operator-key-0123456789";
const INGEST_KEY: &str = "ingest-clusters-key-0123456789";

/// Operator everywhere for reading, but proxies only on staging.
const POLICY: &str = r#"
roles:
  stg-operator:
    grants: ["inventory.*", "health.*", "audit.*"]
    cluster_grants:
      - grants: ["proxy.*"]
        clusters: [staging]
bindings:
  - { actor: stg-bot, role: stg-operator }
"#;

/// The demo state as cluster `teleport_name`; staging keeps two nodes, renamed `stg-…`.
fn state(dir: &Path, teleport_name: &str, staging: bool) -> PathBuf {
    let mut state: Value = serde_json::from_str(&mtcp_tests::sim::run(dir, &["demo-state"])).unwrap();
    state["cluster_name"] = json!(teleport_name);
    if staging {
        let nodes = state["nodes"].as_array_mut().unwrap();
        nodes.truncate(2);
        for (i, node) in nodes.iter_mut().enumerate() {
            node["spec"]["hostname"] = json!(format!("stg-web-{i:02}"));
        }
    }
    let path = dir.join(format!("{teleport_name}.json"));
    std::fs::write(&path, serde_json::to_vec(&state).unwrap()).unwrap();
    path
}

/// prod (the default) and staging, from the simulator set-up the stack made for one cluster.
fn two_clusters(dir: &Path) -> Tweak {
    let mut clusters = Vec::new();
    for (name, teleport_name) in [("prod", "prod.example.com"), ("staging", "staging.example.com")] {
        let home = dir.join(name);
        std::fs::create_dir_all(home.join("state")).unwrap();
        let identity = home.join("identity");
        mtcp_cli::sim_identity::write_for(&identity, teleport_name).unwrap();
        let state = state(&home, teleport_name, name == "staging");
        clusters.push((name, teleport_name, identity, state, home.join("state")));
    }
    let policy = dir.join("policy.yaml");
    std::fs::write(&policy, POLICY).unwrap();
    Arc::new(move |c| {
        let base = ClusterConfig::from_legacy(&c.teleport, &c.tsh);
        c.clusters = clusters
            .iter()
            .map(|(name, teleport_name, identity, state, state_dir)| {
                let mut env = base.env.clone();
                env.insert("TELEPORT_SIM_STATE".into(), state.display().to_string());
                env.insert("TELEPORT_SIM_STATE_DIR".into(), state_dir.display().to_string());
                ClusterConfig {
                    name: (*name).into(),
                    proxy: Some(format!("{teleport_name}:443")),
                    identity_file: Some(identity.clone()),
                    teleport_name: Some((*teleport_name).into()),
                    env,
                    ..base.clone()
                }
            })
            .collect();
        c.default_cluster = Some("prod".into());
        // The single-cluster sections the stack filled in are now the clusters' own.
        c.teleport.proxy = None;
        c.teleport.identity_file = None;
        c.policy.path = Some(policy.clone());
        c.auth.api_keys.push(ApiKeyEntry {
            actor: "stg-bot".into(),
            role: None,
            sha256: mtcp_cli::dev::key_hash(STAGING_KEY),
            kind: ActorKind::User,
        });
        c.audit.ingest_keys =
            vec![IngestKey { name: "event-handler".into(), sha256: mtcp_cli::dev::key_hash(INGEST_KEY) }];
    })
}

struct Workers {
    prod: Child,
    staging: Child,
}

impl Drop for Workers {
    fn drop(&mut self) {
        for w in [&mut self.prod, &mut self.staging] {
            let _ = w.kill();
            let _ = w.wait();
        }
    }
}

async fn start() -> (Stack, Workers, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let opts = StackOptions {
        worker: false,
        tweak: Some(two_clusters(dir.path())),
        call_budget: Duration::from_secs(8),
        ..Default::default()
    };
    let stack = Stack::start(opts).await.unwrap();
    let workers =
        Workers { prod: stack.worker_process_serving(&["prod"]), staging: stack.worker_process_serving(&["staging"]) };
    let operator = stack.client("operator").await.unwrap();
    wait_for(|| async { online(&operator, "prod").await == 1 && online(&operator, "staging").await == 1 }).await;
    (stack, workers, dir)
}

async fn wait_for<F, Fut>(mut ok: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..300 {
        if ok().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("not reached within 30 s");
}

async fn clusters(client: &McpClient) -> Value {
    let r = client.call("list_clusters", json!({})).await.unwrap();
    assert_ne!(r.is_error, Some(true), "{}", text_of(&r));
    r.structured_content.unwrap()
}

async fn online(client: &McpClient, name: &str) -> i64 {
    let list = clusters(client).await;
    let cluster = list["clusters"].as_array().unwrap().iter().find(|c| c["name"] == name).cloned();
    cluster.map_or(-1, |c| c["workers_online"].as_i64().unwrap())
}

fn op_id(r: &rmcp::model::CallToolResult) -> String {
    r.meta.as_ref().unwrap().0["mtcp/op_id"].as_str().unwrap().to_owned()
}

/// The clusters the worker that ran `op_id` serves.
async fn ran_on(stack: &Stack, op_id: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT a.clusters FROM operations o JOIN agents a ON a.agent_id::text = o.worker_id WHERE o.op_id = $1::uuid",
    )
    .bind(op_id)
    .fetch_one(&stack.db.pool)
    .await
    .unwrap()
}

async fn nodes(client: &McpClient, cluster: &str) -> (String, String) {
    let r = client.call("list_nodes", json!({ "cluster": cluster })).await.unwrap();
    assert_ne!(r.is_error, Some(true), "{}", text_of(&r));
    (r.structured_content.clone().unwrap().to_string(), op_id(&r))
}

#[tokio::test]
async fn calls_run_on_their_clusters_worker_and_a_stopped_worker_leaves_the_other_cluster_served() {
    let (stack, mut workers, _dir) = start().await;
    let operator = stack.client("operator").await.unwrap();

    // What the caller sees: both clusters, prod the default, each served.
    let list = clusters(&operator).await;
    assert_eq!(list["default_cluster"], "prod", "{list}");
    let names: Vec<&str> = list["clusters"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["prod", "staging"], "{list}");
    assert_eq!(list["clusters"][1]["teleport_name"], "staging.example.com", "{list}");

    // Each call lands on its cluster's worker and reads that cluster.
    let (prod, prod_op) = nodes(&operator, "prod").await;
    let (staging, staging_op) = nodes(&operator, "staging").await;
    assert!(prod.contains("web-04") && !prod.contains("stg-web"), "{prod}");
    assert!(staging.contains("stg-web-00") && !staging.contains("web-04"), "{staging}");
    assert_eq!(ran_on(&stack, &prod_op).await, ["prod"]);
    assert_eq!(ran_on(&stack, &staging_op).await, ["staging"]);
    // No cluster named: the default.
    let r = operator.call("list_nodes", json!({})).await.unwrap();
    assert_eq!(ran_on(&stack, &op_id(&r)).await, ["prod"]);
    // An unknown cluster is refused, naming the configured ones; nothing is queued for it.
    let r = operator.call("list_nodes", json!({ "cluster": "dev" })).await.unwrap();
    assert_eq!(r.is_error, Some(true));
    let text = text_of(&r);
    assert!(text.contains("no cluster \"dev\" is configured") && text.contains("prod, staging"), "{text}");

    // Stop prod's worker: staging is still fully served, prod's calls wait, and the health check says why.
    let _ =
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(workers.prod.id() as i32), nix::sys::signal::Signal::SIGTERM);
    let _ = workers.prod.wait();
    wait_for(|| async { online(&operator, "prod").await == 0 }).await;
    let (staging, _) = nodes(&operator, "staging").await;
    assert!(staging.contains("stg-web-01"), "{staging}");
    let waiting = operator.call("list_nodes", json!({ "cluster": "prod" })).await.unwrap();
    let text = text_of(&waiting);
    assert!(text.contains("still running"), "the call waits for a prod worker: {text}");
    let health = operator.call("run_health_check", json!({ "cluster": "prod" })).await.unwrap();
    let report = health.structured_content.clone().unwrap();
    assert_eq!(report["status"], "fail", "{report}");
    let report = report.to_string();
    assert!(
        report.contains("no worker serving cluster \\\"prod\\\" is online") && report.contains("1 waiting"),
        "{report}"
    );
    let list = clusters(&operator).await;
    let prod = &list["clusters"][0];
    assert_eq!(
        (prod["workers_online"].as_i64(), prod["queued"].as_i64(), prod["reachable"].as_bool()),
        (Some(0), Some(1), Some(false)),
        "{list}"
    );
    let staging_health = operator.call("run_health_check", json!({ "cluster": "staging" })).await.unwrap();
    assert_eq!(ran_on(&stack, &op_id(&staging_health)).await, ["staging"]);

    // A prod worker again: the waiting call runs there.
    workers.prod = stack.worker_process_serving(&["prod"]);
    let waiting_op = op_id(&waiting);
    wait_for(|| async {
        let r = operator.call("get_operation", json!({ "op_id": waiting_op })).await.unwrap();
        r.structured_content.is_some_and(|v| v["status"] == "succeeded")
    })
    .await;
    assert_eq!(ran_on(&stack, &waiting_op).await, ["prod"]);
}

#[tokio::test]
async fn a_role_limited_to_staging_leases_there_and_is_refused_on_prod_with_the_rule_named() {
    let (stack, _workers, _dir) = start().await;
    let bot = McpClient::connect(&stack.url, Some(STAGING_KEY)).await.unwrap();
    let args = |cluster: &str| {
        json!({ "kind": "proxy_db", "target": { "db": "orders", "db_user": "ro" }, "reason": "debug orders",
                "ttl_seconds": 300, "cluster": cluster })
    };

    // On prod: refused by the cluster-limited grant, which the refusal names.
    let refused = bot.call("start_proxy", args("prod")).await.unwrap();
    assert_eq!(refused.is_error, Some(true));
    let text = text_of(&refused);
    assert!(text.contains("denied by policy") && text.contains("roles.stg-operator.cluster_grants[0]"), "{text}");
    // check_policy says the same before anything is tried, naming the cluster.
    let check = bot.call("check_policy", json!({ "tool": "start_proxy", "arguments": args("prod") })).await.unwrap();
    let verdict = check.structured_content.unwrap();
    assert_eq!((verdict["allow"].as_bool(), verdict["cluster"].as_str()), (Some(false), Some("prod")), "{verdict}");
    assert!(verdict["reason"].as_str().unwrap().contains("cluster_grants[0]"), "{verdict}");
    // Reading prod is still allowed (its grants hold on every cluster).
    let (prod, _) = nodes(&bot, "prod").await;
    assert!(prod.contains("web-04"), "{prod}");

    // On staging: the lease starts on staging's worker and says so.
    let started = bot.call("start_proxy", args("staging")).await.unwrap();
    assert_ne!(started.is_error, Some(true), "{}", text_of(&started));
    assert_eq!(ran_on(&stack, &op_id(&started)).await, ["staging"]);
    let lease_id = started.structured_content.clone().unwrap()["lease_id"].as_str().unwrap().to_owned();
    let (cluster, agent_clusters): (Option<String>, Vec<String>) = sqlx::query_as(
        "SELECT l.cluster, a.clusters FROM leases l JOIN agents a ON a.agent_id = l.agent_id WHERE l.lease_id = $1::uuid",
    )
    .bind(&lease_id)
    .fetch_one(&stack.db.pool)
    .await
    .unwrap();
    assert_eq!((cluster.as_deref(), agent_clusters), (Some("staging"), vec!["staging".to_owned()]));
    // What the caller reads back names the cluster too.
    let op = bot.call("get_operation", json!({ "op_id": op_id(&started) })).await.unwrap();
    assert_eq!(op.structured_content.unwrap()["cluster"], "staging");
    let status = bot.call("get_proxy_status", json!({ "lease_id": lease_id })).await.unwrap();
    assert_eq!(status.structured_content.unwrap()["cluster"], "staging");
    // The console's policy page shows the role's cluster limit.
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let signed = post_sign_in(&http, &stack.base, STAGING_KEY, "/console/policy").await.unwrap();
    let cookie = set_cookies(&signed).into_iter().find(|c| c.starts_with("mtcp_console=")).expect("a session");
    let page = http.get(format!("{}/console/policy", stack.base)).header(COOKIE, cookie).send().await.unwrap();
    let page = page.text().await.unwrap();
    assert!(page.contains("Grants proxy.* <span class=\"quiet\">only on</span> staging"), "{page}");
    let stopped = bot.call("stop_proxy", json!({ "lease_id": lease_id, "reason": "done" })).await.unwrap();
    assert_ne!(stopped.is_error, Some(true), "{}", text_of(&stopped));
}

async fn ingest(stack: &Stack, events: &[Value]) {
    let r = reqwest::Client::new()
        .post(format!("{}/audit/ingest/teleport.events", stack.base))
        .bearer_auth(INGEST_KEY)
        .json(&events)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "{}", r.text().await.unwrap());
}

/// 300 of the simulator's events of a day, all of cluster `teleport_name`, with uids of their own.
fn events(seed: u64, teleport_name: &str) -> Vec<Value> {
    let mut events: Vec<Value> = mtcp_tests::sim::audit_events(seed, &[])
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(300)
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for (i, e) in events.iter_mut().enumerate() {
        e["cluster_name"] = json!(teleport_name);
        e["uid"] = json!(format!("{teleport_name}-{i}"));
    }
    events
}

#[tokio::test]
async fn each_clusters_audit_events_are_searched_apart() {
    let (stack, _workers, _dir) = start().await;
    let (prod, staging) = (events(7, "prod.example.com"), events(8, "staging.example.com"));
    ingest(&stack, &prod).await;
    ingest(&stack, &staging).await;
    let auditor = stack.client("operator").await.unwrap();
    let total = |cluster: Option<&str>| {
        let auditor = &auditor;
        // 25 hours hold the whole generated day (it ended moments ago), edges included.
        let args = cluster.map_or_else(|| json!({ "hours": 25 }), |c| json!({ "hours": 25, "cluster": c }));
        async move {
            let r = auditor.call("search_audit", args).await.unwrap();
            assert_ne!(r.is_error, Some(true), "{}", text_of(&r));
            let v = r.structured_content.unwrap();
            (v["total"].as_i64().unwrap_or(-1), v["cluster"].clone())
        }
    };
    assert_eq!(total(Some("prod")).await, (prod.len() as i64, json!("prod")));
    assert_eq!(total(Some("staging")).await, (staging.len() as i64, json!("staging")));
    assert_eq!(total(None).await.0, (prod.len() + staging.len()) as i64);
}
