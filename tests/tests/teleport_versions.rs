//! The control plane against each Teleport release the simulator imitates
//! (`TELEPORT_SIM_VERSION` 17.x / 18.x / 19.x): what differs by version reaches the caller as it
//! would against a real cluster.

use std::collections::BTreeMap;
use std::sync::Arc;

use mtcp_tests::client::text_of;
use mtcp_tests::{Stack, StackOptions};
use serde_json::{Value, json};

/// The simulator imitating `version`, with managed client tools advertised: every tctl/tsh run
/// fails unless the runner turned self-update off (`TELEPORT_TOOLS_VERSION=off`).
fn sim_env(version: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("TELEPORT_SIM_VERSION".to_owned(), version.to_owned()),
        ("TELEPORT_SIM_MANAGED_TOOLS".to_owned(), "19.0.0".to_owned()),
    ])
}

fn check<'a>(report: &'a Value, id: &str) -> Option<&'a Value> {
    report["checks"].as_array().unwrap().iter().find(|c| c["id"] == id)
}

/// Item: `run_health_check` reads the cluster version from `tctl status` on every release (17.x and
/// 18.x refuse `--format`), and no run updates the client tools.
#[tokio::test]
async fn the_health_check_reads_the_cluster_version_on_17_18_and_19() {
    for version in ["17.7.1", "18.3.0", "19.0.0"] {
        let opts = StackOptions { sim_env: sim_env(version), ..Default::default() };
        let mut stack = Stack::start(opts).await.unwrap();
        let c = stack.client("operator").await.unwrap();
        let r = c.call("run_health_check", json!({})).await.unwrap();
        assert_eq!(r.is_error, Some(false), "{version}: {}", text_of(&r));
        let report = r.structured_content.unwrap();
        assert!(check(&report, "HC-STATUS").is_none(), "{version}: the status was read: {report}");
        let versions = check(&report, "teleport.versions").unwrap_or_else(|| panic!("{version}: {report}"));
        assert_eq!(
            versions["details"]["reference"],
            json!({ "version": version, "source": "cluster" }),
            "{version}: {versions}"
        );
        stack.stop().await;
    }
}

/// Item: passthrough refuses the `--format` values a command does not declare, before any run.
#[tokio::test]
async fn passthrough_format_flags_follow_each_command() {
    let tweak: mtcp_tests::Tweak = Arc::new(|c| c.policy.allow_tctl_passthrough = true);
    let opts = StackOptions { sim_env: sim_env("18.3.0"), tweak: Some(tweak), ..Default::default() };
    let mut stack = Stack::start(opts).await.unwrap();
    let admin = stack.client("admin").await.unwrap();
    let run = |args: Value| {
        let admin = &admin;
        async move { admin.call("run_tctl_command", json!({ "args": args, "reason": "versions" })).await.unwrap() }
    };
    let r = run(json!(["status", "--format=json"])).await;
    assert_eq!(r.is_error, Some(true));
    assert!(text_of(&r).contains("take no --format in Teleport 17.x and 18.x"), "{}", text_of(&r));
    let r = run(json!(["tokens", "ls", "--format=names"])).await;
    assert!(text_of(&r).contains("text, json or yaml"), "{}", text_of(&r));
    let r = run(json!(["requests", "ls", "--format=yaml"])).await;
    assert!(text_of(&r).contains("only text or json"), "{}", text_of(&r));

    let r = run(json!(["status"])).await;
    assert_eq!(r.is_error, Some(false), "{}", text_of(&r));
    let out = r.structured_content.unwrap();
    assert!(out["stdout"].as_str().unwrap().starts_with("Cluster: "), "{out}");
    // tctl accepts it (the names it prints are withheld by the token scrubbing, as any text is).
    let r = run(json!(["tokens", "ls", "--format=text"])).await;
    assert_eq!(r.structured_content.clone().unwrap()["exit_code"], 0, "{}", text_of(&r));
    stack.stop().await;
}

async fn start_proxy(stack: &Stack, args: Value) -> rmcp::model::CallToolResult {
    let op = stack.client("operator").await.unwrap();
    op.call("start_proxy", args).await.unwrap()
}

/// The lease a failed start left: ended, not live.
async fn only_lease(stack: &Stack) -> Value {
    let op = stack.client("operator").await.unwrap();
    let all = op.call("list_proxies_leases", json!({ "active_only": false })).await.unwrap();
    all.structured_content.unwrap()["leases"][0].clone()
}

/// Item: tsh on Linux has no VNet (17.x/18.x): the caller learns why and on which worker, and the
/// lease ends as a failed start; the same lease starts where VNet exists.
#[tokio::test]
async fn vnet_is_refused_on_a_platform_without_it_naming_the_worker() {
    let mut env = sim_env("18.3.0");
    env.insert("TELEPORT_SIM_OS".to_owned(), "linux".to_owned());
    let mut stack = Stack::start(StackOptions { sim_env: env, ..Default::default() }).await.unwrap();
    let r = start_proxy(&stack, json!({ "kind": "vnet", "reason": "versions" })).await;
    assert_eq!(r.is_error, Some(true));
    let text = text_of(&r);
    assert!(text.contains("vnet cannot run on worker ") && text.contains("(host "), "{text}");
    assert!(text.contains("VNet is not implemented on linux"), "Teleport's words too: {text}");
    let lease = only_lease(&stack).await;
    assert_eq!((lease["status"].as_str(), lease["stop_reason"].as_str()), (Some("failed"), Some("start_failed")));
    stack.stop().await;

    let mut env = sim_env("18.3.0");
    env.insert("TELEPORT_SIM_OS".to_owned(), "windows".to_owned());
    let mut stack = Stack::start(StackOptions { sim_env: env, ..Default::default() }).await.unwrap();
    let r = start_proxy(&stack, json!({ "kind": "vnet", "reason": "versions" })).await;
    assert_eq!(r.is_error, Some(false), "{}", text_of(&r));
    stack.stop().await;
}

/// Item: `tsh proxy mcp` exists from 18.x and serves only MCP apps over streamable HTTP.
#[tokio::test]
async fn proxy_mcp_says_what_it_needs_when_it_fails() {
    let mut stack = Stack::start(StackOptions { sim_env: sim_env("17.7.1"), ..Default::default() }).await.unwrap();
    let r =
        start_proxy(&stack, json!({ "kind": "proxy_mcp", "target": { "app": "mcp-everything" }, "reason": "v" })).await;
    assert_eq!(r.is_error, Some(true));
    assert!(text_of(&r).contains("proxy_mcp needs Teleport 18.x or newer"), "{}", text_of(&r));
    assert_eq!(only_lease(&stack).await["status"], "failed");
    stack.stop().await;

    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("apps.yaml");
    std::fs::write(&state, "apps: [grafana, everything, files]\nmcp_apps: {everything: http, files: stdio}\n").unwrap();
    let opts = StackOptions { sim_env: sim_env("18.3.0"), sim_state: Some(state), ..Default::default() };
    let mut stack = Stack::start(opts).await.unwrap();
    for (app, needle) in [
        ("grafana", "\"grafana\" is not an MCP application"),
        ("files", "MCP applications with stdio transport are not supported"),
    ] {
        let r = start_proxy(&stack, json!({ "kind": "proxy_mcp", "target": { "app": app }, "reason": "v" })).await;
        assert_eq!(r.is_error, Some(true), "{app}");
        let text = text_of(&r);
        assert!(text.contains(needle) && text.contains("proxy_mcp serves only MCP applications"), "{app}: {text}");
    }
    let r = start_proxy(&stack, json!({ "kind": "proxy_mcp", "target": { "app": "everything" }, "reason": "v" })).await;
    assert_eq!(r.is_error, Some(false), "{}", text_of(&r));
    stack.stop().await;
}

/// Item: a kube lease names its cluster (an isolated home has none logged in).
#[tokio::test]
async fn proxy_kube_requires_the_cluster() {
    let mut stack = Stack::start(StackOptions { sim_env: sim_env("18.3.0"), ..Default::default() }).await.unwrap();
    let r = start_proxy(&stack, json!({ "kind": "proxy_kube", "reason": "v" })).await;
    assert_eq!(r.is_error, Some(true));
    assert!(text_of(&r).contains("needs `target.kube_cluster`"), "{}", text_of(&r));
    stack.stop().await;
}
