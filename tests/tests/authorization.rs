//! The authorization matrix of the README's built-in roles, end to end: every built-in role against every tool,
//! through a real MCP client — what it sees in tools/list, what it may call, and whose objects.

use std::collections::BTreeSet;
use std::sync::Arc;

use mtcp_shared::domain::CATALOG;
use mtcp_tests::client::text_of;
use mtcp_tests::{Stack, StackOptions};
use serde_json::{Value, json};

/// Written out by hand from the README's built-in role table (passthrough switched on for this stack).
fn allowed(role: &str, tool: &str) -> bool {
    let inventory = tool.starts_with("list_") || tool == "get_auth_preference";
    match tool {
        "whoami" | "get_operation" | "check_policy" | "list_clusters" => true,
        "search_operations" | "run_tsh_command" | "run_tctl_command" => role == "admin",
        "list_access_requests" | "show_access_request" | "create_access_request" | "drop_access_request" => {
            matches!(role, "admin" | "operator" | "user")
        }
        "review_access_request" => matches!(role, "admin" | "operator"),
        "list_pending_approvals" | "approve_operation" | "deny_operation" => role == "admin",
        "start_proxy"
        | "stop_proxy"
        | "get_proxy_status"
        | "get_proxy_logs"
        | "list_proxies_leases"
        | "list_edge_agents" => {
            matches!(role, "admin" | "operator" | "user")
        }
        "scan_rbac" | "run_health_check" | "search_audit" | "detect_audit_anomalies" => {
            matches!(role, "admin" | "operator" | "readonly")
        }
        // Users start proxies, so they discover what there is to proxy to.
        "list_databases" | "list_apps" | "list_mcp_servers" | "list_kube_clusters" | "list_windows_desktops" => {
            matches!(role, "admin" | "operator" | "readonly" | "user")
        }
        _ if inventory => matches!(role, "admin" | "operator" | "readonly"),
        other => panic!("the matrix does not know {other}: add it"),
    }
}

/// Arguments for each tool: the caller's own operation, its own request (created earlier in the
/// catalog's order), and a request a human made in Teleport (for reviews).
fn sample_args(tool: &str, own_op: &str, own: [Option<&str>; 3], human_request: &str) -> Value {
    let [kept, own_request, lease] = own.map(|r| r.unwrap_or("00000000-0000-4000-8000-000000000000"));
    match tool {
        "start_proxy" => json!({ "kind": "proxy_app", "target": { "app": "grafana" }, "ttl_seconds": 120,
                                 "reason": "authorization matrix" }),
        "get_proxy_status" | "get_proxy_logs" | "stop_proxy" => json!({ "lease_id": lease }),
        "create_access_request" => json!({ "resources": ["access"], "reason": "authorization matrix" }),
        "show_access_request" => json!({ "request_id": kept }),
        // With `revoke`: locking the access granted through one's own request is part of withdrawing it.
        "drop_access_request" => json!({ "request_id": own_request, "reason": "authorization matrix",
                                         "revoke": { "reason": "authorization matrix", "ttl_seconds": 60 } }),
        "review_access_request" => json!({ "request_id": human_request, "approve": true, "reason": "matrix" }),
        "get_operation" => json!({ "op_id": own_op }),
        // Nothing waits for approval here: the policy lets the call through, the approval refuses it.
        "approve_operation" => json!({ "op_id": own_op, "args_sha256": "0".repeat(64), "reason": "matrix" }),
        "deny_operation" => json!({ "op_id": own_op, "reason": "matrix" }),
        "check_policy" => json!({ "tool": "list_nodes" }),
        "run_tsh_command" => json!({ "args": ["version"], "reason": "authorization matrix" }),
        "run_tctl_command" => json!({ "args": ["status"], "reason": "authorization matrix" }),
        _ => json!({}),
    }
}

/// `tctl requests create alice --roles access` straight on the simulator's state: a request a
/// human made, which the control plane may review.
fn seed_human_request(state_dir: &std::path::Path) -> String {
    let sim = mtcp_cli::dev::simulator_binary().unwrap();
    let out = std::process::Command::new(sim)
        .args(["tctl", "requests", "create", "alice", "--roles", "access", "--reason", "alice needs access"])
        .env("TELEPORT_SIM_STATE_DIR", state_dir)
        .env("TELEPORT_SIM_ALLOW_NO_IDENTITY", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "seeding a request: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn op_id(r: &rmcp::model::CallToolResult) -> String {
    r.meta.as_ref().unwrap().0["mtcp/op_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn every_role_sees_and_calls_exactly_what_the_policy_grants() {
    let tweak: mtcp_tests::Tweak = Arc::new(|c| {
        c.policy.allow_tsh_passthrough = true;
        c.policy.allow_tctl_passthrough = true;
    });
    // One access-request store shared by the workers' simulator runs and this test (to seed a
    // request a human made).
    let state_dir = tempfile::tempdir().unwrap();
    let sim_env = std::collections::BTreeMap::from([(
        "TELEPORT_SIM_STATE_DIR".to_owned(),
        state_dir.path().display().to_string(),
    )]);
    // One request a human made per reviewing role: Teleport takes one review per reviewer.
    let human_requests: std::collections::BTreeMap<&str, String> = ["admin", "operator", "user", "readonly"]
        .into_iter()
        .map(|r| (r, seed_human_request(state_dir.path())))
        .collect();
    let mut stack = Stack::start(StackOptions { tweak: Some(tweak), sim_env, ..Default::default() }).await.unwrap();
    for role in ["admin", "operator", "user", "readonly"] {
        let client = stack.client(role).await.unwrap();
        let listed: BTreeSet<String> = client.tool_names().await.unwrap().into_iter().collect();
        let expected: BTreeSet<String> =
            CATALOG.iter().filter(|t| allowed(role, t.name)).map(|t| t.name.to_owned()).collect();
        assert_eq!(listed, expected, "tools/list of {role}");
        let own = op_id(&client.call("whoami", json!({})).await.unwrap());
        // A request of the caller's own that stays (for show), besides the one the loop creates
        // and withdraws.
        let created = client
            .call("create_access_request", sample_args("create_access_request", &own, [None, None, None], ""))
            .await;
        let kept =
            created.ok().and_then(|r| r.structured_content).and_then(|s| s["request_id"].as_str().map(str::to_owned));
        // And a lease of its own (for status, logs and stop, which come before start in name order).
        let started = client.call("start_proxy", sample_args("start_proxy", &own, [None, None, None], "")).await;
        let lease =
            started.ok().and_then(|r| r.structured_content).and_then(|s| s["lease_id"].as_str().map(str::to_owned));
        let mut own_request: Option<String> = None;
        for tool in CATALOG {
            let own_objects = [kept.as_deref(), own_request.as_deref(), lease.as_deref()];
            let args = sample_args(tool.name, &own, own_objects, &human_requests[role]);
            let r = client.call(tool.name, args).await.unwrap();
            let text = text_of(&r);
            if tool.name == "create_access_request" && r.is_error == Some(false) {
                own_request = r.structured_content.as_ref().and_then(|s| s["request_id"].as_str()).map(str::to_owned);
            }
            if allowed(role, tool.name) {
                assert!(!text.contains("denied by policy"), "{role} must be allowed {}: {text}", tool.name);
                if matches!(tool.name, "approve_operation" | "deny_operation") {
                    assert!(text.contains("awaits approval"), "{role} {}: {text}", tool.name);
                    continue;
                }
                // Reviewing the human's request again after it was approved is a Teleport-level
                // no-op, not an error; everything else succeeds outright.
                assert_eq!(r.is_error, Some(false), "{role} {}: {text}", tool.name);
            } else {
                assert_eq!(r.is_error, Some(true), "{role} must be denied {}", tool.name);
                assert!(text.contains("denied by policy"), "{role} {}: {text}", tool.name);
            }
        }
        client.close().await;
    }
    // Every denial is in the trail with the role and the policy version.
    let denied: Vec<(String, String, Value)> =
        sqlx::query_as("SELECT actor_role, tool, decision FROM operations WHERE status = 'denied'")
            .fetch_all(&stack.db.pool)
            .await
            .unwrap();
    // Each role also tried one create and one start before the loop (refused for readonly).
    let expected_denials: usize = ["admin", "operator", "user", "readonly"]
        .iter()
        .map(|r| {
            CATALOG.iter().filter(|t| !allowed(r, t.name)).count()
                + usize::from(!allowed(r, "create_access_request"))
                + usize::from(!allowed(r, "start_proxy"))
        })
        .sum();
    assert_eq!(denied.len(), expected_denials, "{denied:?}");
    assert!(denied.iter().all(|(_, _, d)| d["allow"] == false && d["policy_version"].as_str().is_some()));
    stack.stop().await;
}

#[tokio::test]
async fn own_operations_are_visible_to_their_actor_and_to_admins_only() {
    let mut stack = Stack::start(StackOptions::default()).await.unwrap();
    let operator = stack.client("operator").await.unwrap();
    let ops = op_id(&operator.call("list_nodes", json!({})).await.unwrap());
    for (role, visible) in [("operator", true), ("admin", true), ("readonly", false), ("user", false)] {
        let c = stack.client(role).await.unwrap();
        let r = c.call("get_operation", json!({ "op_id": ops })).await.unwrap();
        assert_eq!(r.is_error == Some(false), visible, "{role}: {}", text_of(&r));
        if !visible {
            assert!(text_of(&r).contains("no operation"), "{}", text_of(&r));
        }
        c.close().await;
    }
    stack.stop().await;
}

#[tokio::test]
async fn check_policy_explains_without_running_and_search_finds_the_trail() {
    let tweak: mtcp_tests::Tweak = Arc::new(|c| c.policy.allow_tctl_passthrough = true);
    let mut stack = Stack::start(StackOptions { tweak: Some(tweak), ..Default::default() }).await.unwrap();
    let user = stack.client("user").await.unwrap();
    let r = user.call("check_policy", json!({ "tool": "list_nodes" })).await.unwrap().structured_content.unwrap();
    assert_eq!(r["allow"], false);
    assert!(r["reason"].as_str().unwrap().contains("inventory.nodes"), "{r}");
    let admin = stack.client("admin").await.unwrap();
    let check = |args: Value| {
        let admin = &admin;
        async move { admin.call("check_policy", args).await.unwrap().structured_content.unwrap() }
    };
    let r = check(json!({ "tool": "run_tctl_command", "arguments": { "args": ["get", "nodes"] } })).await;
    assert_eq!(r["allow"], false, "no reason given: {r}");
    let r = check(
        json!({ "tool": "run_tctl_command", "arguments": { "args": ["--insecure", "get", "nodes"], "reason": "x" } }),
    )
    .await;
    assert_eq!((r["allow"].clone(), r["arguments_valid"].clone()), (json!(false), json!(false)), "{r}");
    let r =
        check(json!({ "tool": "run_tctl_command", "arguments": { "args": ["get", "nodes"], "reason": "x" } })).await;
    assert_eq!(r["allow"], true, "{r}");
    let ran: i64 = sqlx::query_scalar("SELECT count(*) FROM operations WHERE tool = 'run_tctl_command'")
        .fetch_one(&stack.db.pool)
        .await
        .unwrap();
    assert_eq!(ran, 0, "check_policy runs nothing");

    let found = admin.call("search_operations", json!({ "actor": "dev-user" })).await.unwrap();
    let found = found.structured_content.unwrap();
    assert!(found["count"].as_u64().unwrap() >= 1, "{found}");
    assert!(found["operations"].as_array().unwrap().iter().all(|o| o["actor"] == "dev-user"));
    let bad = admin.call("search_operations", json!({ "status": "exploded" })).await.unwrap();
    assert!(text_of(&bad).contains("status"), "{}", text_of(&bad));
    stack.stop().await;
}

#[tokio::test]
async fn passthrough_is_off_by_default_and_admin_only_with_a_reason_when_on() {
    let mut off = Stack::start(StackOptions::default()).await.unwrap();
    let admin = off.client("admin").await.unwrap();
    let names = admin.tool_names().await.unwrap();
    assert!(!names.iter().any(|n| n == "run_tctl_command" || n == "run_tsh_command"), "not listed when off");
    let r = admin.call("run_tctl_command", json!({ "args": ["status"], "reason": "look" })).await.unwrap();
    assert!(text_of(&r).contains("policy.allow_tctl_passthrough"), "{}", text_of(&r));
    off.stop().await;

    let tweak: mtcp_tests::Tweak = Arc::new(|c| c.policy.allow_tctl_passthrough = true);
    let mut on = Stack::start(StackOptions { tweak: Some(tweak), ..Default::default() }).await.unwrap();
    let admin = on.client("admin").await.unwrap();
    let r = admin
        .call("run_tctl_command", json!({ "args": ["get", "nodes", "--format=json"], "reason": "INC-7 check" }))
        .await
        .unwrap();
    assert_eq!(r.is_error, Some(false), "{}", text_of(&r));
    let out = r.structured_content.unwrap();
    assert_eq!(out["exit_code"], 0);
    assert!(out["stdout"].as_str().unwrap().contains("\"kind\": \"node\""));
    let r = admin.call("run_tctl_command", json!({ "args": ["get", "nodes"] })).await.unwrap();
    assert!(text_of(&r).contains("reason"), "{}", text_of(&r));
    for bad in [json!(["--insecure", "status"]), json!(["-i", "/etc/shadow", "status"]), json!(["login"])] {
        let r = admin.call("run_tctl_command", json!({ "args": bad, "reason": "probe" })).await.unwrap();
        assert_eq!(r.is_error, Some(true));
        assert!(text_of(&r).contains("invalid arguments"), "{bad}: {}", text_of(&r));
    }
    let operator = on.client("operator").await.unwrap();
    let r = operator.call("run_tctl_command", json!({ "args": ["status"], "reason": "x" })).await.unwrap();
    assert!(text_of(&r).contains("denied by policy") && text_of(&r).contains("passthrough.tctl"), "{}", text_of(&r));
    let (reason, status): (Option<String>, String) = sqlx::query_as(
        "SELECT reason, status FROM operations WHERE tool = 'run_tctl_command' AND status = 'succeeded'",
    )
    .fetch_one(&on.db.pool)
    .await
    .unwrap();
    assert_eq!((reason.as_deref(), status.as_str()), (Some("INC-7 check"), "succeeded"));
    on.stop().await;
}
