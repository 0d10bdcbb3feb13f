//! Discovery through a real MCP client: each tool lists what the simulator's agents serve (names,
//! labels, serving agents, URIs with their credentials redacted); a role without the capability
//! does not see the tools; `start_proxy` to a target the cluster does not have is refused with
//! the close names, before any `tsh proxy` runs, while a known one still starts.

use std::collections::{BTreeMap, BTreeSet};

use mtcp_tests::client::text_of;
use mtcp_tests::{Stack, StackOptions};
use serde_json::{Value, json};

/// The password the demo's MongoDB URI carries.
const MONGO_PASSWORD: &str = "Sup3rS3cretMongo";

const TOOLS: &[&str] =
    &["list_databases", "list_apps", "list_mcp_servers", "list_kube_clusters", "list_windows_desktops"];

/// The demo cluster as the simulator prints it.
fn demo() -> Value {
    let out =
        std::process::Command::new(mtcp_cli::dev::simulator_binary().unwrap()).arg("demo-state").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Expected rows from `*_server` resources: name → (labels, serving hostnames).
fn expected(
    servers: &Value,
    field: &str,
    keep: impl Fn(&Value) -> bool,
) -> BTreeMap<String, (Value, BTreeSet<String>)> {
    let mut out: BTreeMap<String, (Value, BTreeSet<String>)> = BTreeMap::new();
    for s in servers.as_array().unwrap() {
        let target = &s["spec"][field];
        if !keep(target) {
            continue;
        }
        let name = target["metadata"]["name"].as_str().unwrap().to_owned();
        let entry = out.entry(name).or_insert_with(|| (target["metadata"]["labels"].clone(), BTreeSet::new()));
        entry.1.insert(s["spec"]["hostname"].as_str().unwrap().to_owned());
    }
    out
}

/// What a discovery result says: name → (labels, serving hostnames or host ids).
fn listed(result: &Value) -> BTreeMap<String, (Value, BTreeSet<String>)> {
    let targets = result["targets"].as_array().unwrap_or_else(|| panic!("no targets: {result}"));
    assert_eq!(result["count"].as_u64(), Some(targets.len() as u64), "{result}");
    targets
        .iter()
        .map(|t| {
            let agents = t["served_by"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["hostname"].as_str().filter(|h| !h.is_empty()).or(a["host_id"].as_str()).unwrap().to_owned())
                .collect();
            (t["name"].as_str().unwrap().to_owned(), (t["labels"].clone(), agents))
        })
        .collect()
}

#[tokio::test]
async fn discovery_tools_list_what_the_agents_serve() {
    let demo = demo();
    let mut stack = Stack::start(StackOptions::default()).await.unwrap();
    let readonly = stack.client("readonly").await.unwrap();
    let user = stack.client("user").await.unwrap();
    let is_mcp = |app: &Value| app["sub_kind"] == "mcp";
    let desktops: BTreeMap<String, (Value, BTreeSet<String>)> = demo["windows_desktops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let name = d["metadata"]["name"].as_str().unwrap().to_owned();
            (
                name,
                (d["metadata"]["labels"].clone(), BTreeSet::from([d["spec"]["host_id"].as_str().unwrap().to_owned()])),
            )
        })
        .collect();
    let cases = [
        ("list_databases", expected(&demo["db_servers"], "database", |_| true)),
        ("list_apps", expected(&demo["app_servers"], "app", |a| !is_mcp(a))),
        ("list_mcp_servers", expected(&demo["app_servers"], "app", is_mcp)),
        ("list_kube_clusters", expected(&demo["kube_servers"], "cluster", |_| true)),
        ("list_windows_desktops", desktops),
    ];
    for client in [&readonly, &user] {
        let names = client.tool_names().await.unwrap();
        for (tool, want) in &cases {
            assert!(names.iter().any(|n| n == tool), "{tool} is offered: {names:?}");
            let r = client.call(tool, json!({})).await.unwrap();
            assert_eq!(r.is_error, Some(false), "{tool}: {}", text_of(&r));
            let got = r.structured_content.clone().unwrap();
            assert!(!want.is_empty(), "the demo has targets for {tool}");
            assert_eq!(&listed(&got), want, "{tool}: {got}");
            // Every env is one of the blast-radius environments.
            for t in got["targets"].as_array().unwrap() {
                assert!(["prod", "staging", "dev"].contains(&t["labels"]["env"].as_str().unwrap_or("")), "{t}");
            }
            let whole = format!("{}{}", got, text_of(&r));
            assert!(!whole.contains(MONGO_PASSWORD), "{tool} leaks the URI password: {whole}");
        }
    }

    // The credentials in a URI are redacted, the rest of it is kept.
    let dbs = readonly.call("list_databases", json!({})).await.unwrap().structured_content.unwrap();
    let mongo = dbs["targets"].as_array().unwrap().iter().find(|t| t["name"] == "analytics-mongo").unwrap();
    let uri = mongo["uri"].as_str().unwrap();
    assert!(uri.contains("mongo-0.internal:27017") && uri.contains("[REDACTED]"), "{uri}");
    assert_eq!(mongo["protocol"], "mongodb");
    let orders = dbs["targets"].as_array().unwrap().iter().find(|t| t["name"] == "orders").unwrap();
    assert_eq!(orders["served_by"].as_array().unwrap().len(), 2, "orders is served by two agents: {orders}");

    // MCP servers say their transport and how each is reached.
    let mcp = readonly.call("list_mcp_servers", json!({})).await.unwrap().structured_content.unwrap();
    let by_name = |n: &str| mcp["targets"].as_array().unwrap().iter().find(|t| t["name"] == n).unwrap().clone();
    for (name, transport, via_proxy) in
        [("mcp-everything", "http", true), ("mcp-search", "sse", false), ("mcp-git", "stdio", false)]
    {
        let t = by_name(name);
        assert_eq!(t["transport"], transport, "{t}");
        assert_eq!(t["reach"].as_str().unwrap().contains("proxy_mcp"), via_proxy, "{t}");
    }

    // What is stored (results and the records of the runs, stdout included) keeps it out too.
    let stored: Vec<(String,)> = sqlx::query_as(
        "SELECT coalesce(result::text, '') || coalesce(runs::text, '') FROM operations WHERE tool = 'list_databases'",
    )
    .fetch_all(&stack.db.pool)
    .await
    .unwrap();
    assert!(!stored.is_empty());
    assert!(stored.iter().all(|(r,)| !r.contains(MONGO_PASSWORD) && r.contains("analytics-mongo")));
    readonly.close().await;
    user.close().await;
    stack.stop().await;
}

#[tokio::test]
async fn a_role_without_the_capability_does_not_see_the_tools() {
    // A policy whose `user` role starts proxies but may not discover.
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    std::fs::write(&policy, "roles:\n  user:\n    grants: [\"access.*\", \"proxy.*\"]\n").unwrap();
    let tweak: mtcp_tests::Tweak = std::sync::Arc::new(move |c| c.policy.path = Some(policy.clone()));
    let mut stack = Stack::start(StackOptions { tweak: Some(tweak), ..Default::default() }).await.unwrap();
    let user = stack.client("user").await.unwrap();
    let names = user.tool_names().await.unwrap();
    for tool in TOOLS {
        assert!(!names.iter().any(|n| n == tool), "{tool} is hidden: {names:?}");
        let r = user.call(tool, json!({})).await.unwrap();
        assert_eq!(r.is_error, Some(true), "{tool}: {}", text_of(&r));
    }
    assert!(names.iter().any(|n| n == "start_proxy"));
    user.close().await;
    stack.stop().await;
}

#[tokio::test]
async fn start_proxy_refuses_a_target_the_cluster_does_not_have() {
    let dir = tempfile::tempdir().unwrap();
    let argv_log = dir.path().join("argv.jsonl");
    let sim_env = BTreeMap::from([("TELEPORT_SIM_ARGV_LOG".to_owned(), argv_log.display().to_string())]);
    let mut stack = Stack::start(StackOptions { sim_env, ..Default::default() }).await.unwrap();
    let user = stack.client("user").await.unwrap();
    let proxies =
        || std::fs::read_to_string(&argv_log).unwrap_or_default().lines().filter(|l| l.contains("\"proxy\"")).count();

    let r = user
        .call("start_proxy", json!({ "kind": "proxy_db", "target": { "db": "orders-db" }, "reason": "typo" }))
        .await
        .unwrap();
    let text = text_of(&r);
    assert_eq!(r.is_error, Some(true), "{text}");
    assert!(
        text.contains(
            "no database \"orders-db\" in the cluster; close names:\n<untrusted-data format=\"text\">\n\"orders\", \
             \"orders-replica\"\n</untrusted-data>"
        ),
        "{text}"
    );
    assert_eq!(proxies(), 0, "no tsh proxy ran: {}", std::fs::read_to_string(&argv_log).unwrap_or_default());

    let r = user
        .call(
            "start_proxy",
            json!({ "kind": "proxy_kube", "target": { "kube_cluster": "prod-eksx" }, "reason": "typo" }),
        )
        .await
        .unwrap();
    assert!(text_of(&r).contains("close names:\n<untrusted-data format=\"text\">\n\"prod-eks\""), "{}", text_of(&r));
    assert_eq!(proxies(), 0);

    let r = user
        .call("start_proxy", json!({ "kind": "proxy_db", "target": { "db": "orders" }, "reason": "known" }))
        .await
        .unwrap();
    assert_eq!(r.is_error, Some(false), "{}", text_of(&r));
    assert_eq!(proxies(), 1, "the known database started its proxy");
    user.close().await;
    stack.stop().await;
}
