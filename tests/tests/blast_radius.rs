//! Blast radius through a real MCP client: `check_policy` of an access request reports what the
//! requested roles or resources would make reachable, counted from the simulator's state (nodes,
//! databases, Kubernetes clusters, apps and MCP servers by `env` label), with logins and
//! admin-equivalence; an access request waiting for approval shows the same to its approvers, and
//! their webhook hears it.

mod webhook_receiver;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use mtcp_tests::client::text_of;
use mtcp_tests::{Stack, StackOptions, Tweak};
use serde_json::{Value, json};

/// The demo cluster plus two roles to request: one reaching `env: prod`, one admin-equivalent.
fn state(dir: &std::path::Path) -> (std::path::PathBuf, Value) {
    let mut state: Value = serde_json::from_str(&mtcp_tests::sim::run(dir, &["demo-state"])).unwrap();
    let role =
        |name: &str, spec: Value| json!({"kind": "role", "version": "v8", "metadata": {"name": name}, "spec": spec});
    let roles = state["roles"].as_array_mut().unwrap();
    roles.push(role(
        "prod-reach",
        json!({"allow": {
            "logins": ["ubuntu", "{{internal.logins}}", "root"],
            "node_labels": {"env": "prod"}, "db_labels": {"env": "prod"}, "app_labels": {"env": "prod"},
            "kubernetes_labels": {"env": "prod"}, "mcp": {"tools": ["read_*"]}},
          "deny": {"logins": ["root"]}}),
    ));
    roles.push(role(
        "wide-admin",
        json!({"allow": {"node_labels": {"*": "*"}, "rules": [{"resources": ["*"], "verbs": ["*"]}]}}),
    ));
    let path = dir.join("state.json");
    std::fs::write(&path, serde_json::to_vec(&state).unwrap()).unwrap();
    (path, state)
}

/// `{env: count}` of the resources at `pointer` in each item of `list` that `keep` keeps, one per
/// name.
fn by_env(state: &Value, list: &str, pointer: &str, keep: fn(&Value) -> bool) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    let items = state[list].as_array().into_iter().flatten();
    for resource in items.filter_map(|i| i.pointer(pointer)).filter(|r| keep(r)) {
        let name = resource["metadata"]["name"].as_str().unwrap().to_owned();
        let env = resource["metadata"]["labels"]["env"].as_str().unwrap_or("(no env label)").to_owned();
        seen.insert(name, env);
    }
    let mut counts = BTreeMap::new();
    for env in seen.into_values() {
        *counts.entry(env).or_default() += 1;
    }
    counts
}

fn prod_only(counts: &BTreeMap<String, usize>) -> Value {
    let prod = counts.get("prod").copied().unwrap_or(0);
    if prod == 0 { json!({"total": 0, "by_env": {}}) } else { json!({"total": prod, "by_env": {"prod": prod}}) }
}

async fn stack(state: std::path::PathBuf, policy: Option<&str>, webhook: Option<String>) -> Stack {
    let dir = tempfile::tempdir().unwrap().keep();
    let policy = policy.map(|p| {
        let path = dir.join("policy.yaml");
        std::fs::write(&path, p).unwrap();
        path
    });
    let tweak: Tweak = Arc::new(move |c| {
        if let Some(p) = &policy {
            c.policy.path = Some(p.clone());
        }
        if let Some(url) = &webhook {
            c.approvals.webhook = Some(serde_yaml::from_str(&format!("url: {url}")).unwrap());
        }
    });
    Stack::start(StackOptions { sim_state: Some(state), tweak: Some(tweak), ..Default::default() }).await.unwrap()
}

#[tokio::test]
async fn check_policy_counts_what_an_access_request_would_reach() {
    let dir = tempfile::tempdir().unwrap();
    let (path, state) = state(dir.path());
    let mut stack = stack(path, None, None).await;
    let operator = stack.client("operator").await.unwrap();
    let ask = |resources: Value| json!({"tool": "create_access_request", "arguments": {"resources": resources, "reason": "incident 42"}});

    let r = operator.call("check_policy", ask(json!(["prod-reach"]))).await.unwrap();
    assert_eq!(r.is_error, Some(false), "{}", text_of(&r));
    let view = r.structured_content.unwrap();
    assert_eq!(view["allow"], true, "{view}");
    let b = &view["blast_radius"];
    let all = |_: &Value| true;
    let nodes = by_env(&state, "nodes", "", all);
    let dbs = by_env(&state, "db_servers", "/spec/database", all);
    let apps = by_env(&state, "app_servers", "/spec/app", |a| a["sub_kind"] != "mcp");
    let mcp = by_env(&state, "app_servers", "/spec/app", |a| a["sub_kind"] == "mcp");
    let kube = by_env(&state, "kube_servers", "/spec/cluster", all);
    assert!(nodes.get("prod").is_some_and(|n| *n > 1) && dbs.contains_key("prod"), "the demo has prod resources");
    assert_eq!(b["roles"], json!(["prod-reach"]), "{b}");
    assert_eq!(b["nodes"], prod_only(&nodes), "{b}");
    assert_eq!(b["databases"], prod_only(&dbs), "{b}");
    assert_eq!(b["apps"], prod_only(&apps), "{b}");
    assert_eq!(b["mcp_servers"], prod_only(&mcp), "{b}");
    assert_eq!(b["kube_clusters"], prod_only(&kube), "{b}");
    assert_eq!(b["windows_desktops"]["total"], 0, "no windows_desktop_labels: {b}");
    assert_eq!(b["logins"], json!(["ubuntu", "{{internal.logins}}"]), "root is denied: {b}");
    assert_eq!(b["mcp_tools"], json!(["read_*"]), "{b}");
    assert_eq!(b["admin_equivalent"], json!([]), "{b}");

    // An admin-equivalent role and a resource id.
    let db = state["db_servers"][0]["spec"]["database"]["metadata"]["name"].as_str().unwrap().to_owned();
    let cluster = state["cluster_name"].as_str().unwrap().to_owned();
    let r = operator
        .call("check_policy", ask(json!(["wide-admin", format!("/{cluster}/db/{db}"), "no-such-role"])))
        .await
        .unwrap();
    let b = r.structured_content.unwrap()["blast_radius"].clone();
    let all_nodes: usize = nodes.values().sum();
    assert_eq!(b["nodes"]["total"], all_nodes, "'*': '*' reaches every node: {b}");
    assert_eq!(b["databases"]["total"], 1, "{b}");
    assert_eq!(b["resources"], json!([format!("/{cluster}/db/{db}")]), "{b}");
    assert_eq!(b["unknown"], json!(["no-such-role"]), "{b}");
    assert_eq!(b["admin_equivalent"][0]["role"], "wide-admin", "{b}");
    assert!(!b["admin_equivalent"][0]["reasons"].as_array().unwrap().is_empty(), "{b}");

    // A refusal is the policy's alone: nothing reads the cluster.
    let readonly = stack.client("readonly").await.unwrap();
    let r = readonly.call("check_policy", ask(json!(["prod-reach"]))).await.unwrap();
    let view = r.structured_content.unwrap();
    assert_eq!((view["allow"].as_bool(), view.get("blast_radius")), (Some(false), None), "{view}");
    stack.stop().await;
}

/// Operators' access requests wait for an admin.
const POLICY: &str = r#"
roles:
  operator:
    grants: ["inventory.*", "security.*", "health.*", "audit.*", "access.*", "proxy.*"]
    constraints:
      require_approval:
        capabilities: ["access.create"]
        approvers: { roles: [admin] }
"#;

#[tokio::test]
async fn a_waiting_access_request_shows_its_blast_radius_to_approvers() {
    let dir = tempfile::tempdir().unwrap();
    let (path, state) = state(dir.path());
    let (receiver, url) = webhook_receiver::Receiver::start(200, &[]).await;
    let mut stack = stack(path, Some(POLICY), Some(url)).await;
    let operator = stack.client("operator").await.unwrap();
    let admin = stack.client("admin").await.unwrap();
    let wait = tokio::spawn(async move {
        operator
            .call("create_access_request", json!({"resources": ["prod-reach"], "reason": "incident 42"}))
            .await
            .unwrap()
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let impact = loop {
        let list = admin.call("list_pending_approvals", json!({})).await.unwrap().structured_content.unwrap();
        let impact = list["approvals"].get(0).map(|a| a["approval"]["impact"].clone());
        if let Some(impact) = impact.filter(|i| i["status"] == "succeeded") {
            break impact;
        }
        assert!(tokio::time::Instant::now() < deadline, "no blast radius for the approvers: {list}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let nodes = by_env(&state, "nodes", "", |_| true);
    assert_eq!(impact["blast_radius"]["nodes"], prod_only(&nodes), "{impact}");
    assert_eq!(impact["blast_radius"]["roles"], json!(["prod-reach"]), "{impact}");
    // The preview is the requester's own check_policy, in the trail.
    let op: Value =
        admin.call("get_operation", json!({"op_id": impact["op_id"]})).await.unwrap().structured_content.unwrap();
    assert_eq!((op["tool"].as_str(), op["status"].as_str()), (Some("check_policy"), Some("succeeded")), "{op}");
    assert_eq!(op["actor"], "dev-operator", "{op}");

    // The approvers' webhook hears it too, after the request itself.
    let pending = admin.call("list_pending_approvals", json!({})).await.unwrap().structured_content.unwrap();
    let request = pending["approvals"][0]["op_id"].as_str().unwrap().to_owned();
    receiver.wait_for("approval.requested", &request).await;
    let notice = receiver.wait_for("approval.impact", &request).await;
    assert_eq!(notice["blast_radius"]["nodes"], prod_only(&nodes), "{notice}");
    let prod = nodes["prod"];
    assert!(notice["text"].as_str().unwrap().contains(&format!("nodes {prod} (prod {prod})")), "{notice}");
    wait.abort();
    stack.stop().await;
}
