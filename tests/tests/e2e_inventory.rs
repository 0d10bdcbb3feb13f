//! End to end through a real MCP client over HTTP: gateway → Postgres job → worker → simulator
//! `tctl` → result, for every tool of the foundation.

use std::collections::BTreeMap;
use std::time::Duration;

use mtcp_tests::client::text_of;
use mtcp_tests::{Stack, StackOptions};
use serde_json::{Value, json};

const INVENTORY: &[&str] =
    &["list_nodes", "list_proxies", "list_roles", "list_users", "list_tokens", "list_cas", "get_auth_preference"];

fn op_id_of(result: &rmcp::model::CallToolResult) -> uuid::Uuid {
    let meta = result.meta.as_ref().expect("every result carries its op id");
    meta.0["mtcp/op_id"].as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn every_inventory_tool_answers_with_typed_results() {
    let mut stack = Stack::start(StackOptions::default()).await.unwrap();
    let admin = stack.client("admin").await.unwrap();
    let names = admin.tool_names().await.unwrap();
    for tool in INVENTORY.iter().chain(["whoami", "get_operation"].iter()) {
        assert!(names.iter().any(|n| n == tool), "admin should see {tool}: {names:?}");
    }
    for tool in INVENTORY {
        let r = admin.call(tool, json!({})).await.unwrap();
        assert_eq!(r.is_error, Some(false), "{tool}: {}", text_of(&r));
        let s = r.structured_content.clone().unwrap_or_else(|| panic!("{tool} returned no structured content"));
        assert!(s.is_object(), "{tool}: {s}");
        let id = op_id_of(&r);
        let (status, worker): (String, Option<String>) =
            sqlx::query_as("SELECT status, worker_id FROM operations WHERE op_id = $1")
                .bind(id)
                .fetch_one(&stack.db.pool)
                .await
                .unwrap();
        assert_eq!(status, "succeeded", "{tool}");
        assert!(worker.is_some(), "{tool} ran on a worker");
    }

    // The demo cluster has at least 20 nodes; the view is compact and typed.
    let nodes = admin.call("list_nodes", json!({})).await.unwrap().structured_content.unwrap();
    let text = nodes.to_string();
    assert!(!text.contains("0001-01-01T00:00:00Z"), "no Go zero times in results");
    let count = nodes["count"].as_u64().unwrap_or_else(|| nodes["nodes"].as_array().unwrap().len() as u64);
    assert!(count >= 20, "{nodes}");

    // whoami and get_operation are answered by the gateway and recorded too.
    let who = admin.call("whoami", json!({})).await.unwrap();
    let who_s = who.structured_content.clone().unwrap();
    assert_eq!(who_s["role"], "admin");
    assert_eq!(who_s["actor"], "dev-admin");
    let earlier = op_id_of(&admin.call("list_proxies", json!({})).await.unwrap());
    let op = admin.call("get_operation", json!({ "op_id": earlier.to_string() })).await.unwrap();
    let op = op.structured_content.unwrap();
    assert_eq!(op["status"], "succeeded");
    assert_eq!(op["tool"], "list_proxies");
    assert!(op["result"].is_object());
    admin.close().await;
    stack.stop().await;
}

#[tokio::test]
async fn no_or_wrong_key_is_401_with_a_challenge() {
    let mut stack = Stack::start(StackOptions::default()).await.unwrap();
    let http = reqwest::Client::new();
    let body = json!({"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}});
    for auth in [None, Some("Bearer not-a-key"), Some("Basic abc")] {
        let mut req = http
            .post(&stack.url)
            .header("Content-Type", "application/json")
            .header("Accept", "application/json, text/event-stream")
            .body(body.to_string());
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 401, "{auth:?}");
        let challenge = resp.headers()["www-authenticate"].to_str().unwrap().to_owned();
        assert!(challenge.starts_with("Bearer "), "{challenge}");
        assert!(challenge.contains("resource_metadata="), "{challenge}");
    }
    // The metadata document the challenge points at exists.
    let prm: Value = http
        .get(format!("{}/.well-known/oauth-protected-resource/mcp", stack.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(prm["resource"].as_str().unwrap().ends_with("/mcp"));
    // The rmcp client cannot even initialise without a key.
    assert!(mtcp_tests::McpClient::connect(&stack.url, None).await.is_err());
    stack.stop().await;
}

#[tokio::test]
async fn roles_see_and_call_only_what_the_policy_grants_and_denials_are_recorded() {
    let mut stack = Stack::start(StackOptions::default()).await.unwrap();
    let user = stack.client("user").await.unwrap();
    let names = user.tool_names().await.unwrap();
    assert!(!names.iter().any(|n| n == "list_nodes"), "user must not see list_nodes: {names:?}");
    assert!(names.iter().any(|n| n == "whoami"));
    let r = user.call("list_nodes", json!({})).await.unwrap();
    assert_eq!(r.is_error, Some(true));
    let text = text_of(&r);
    assert!(text.contains("denied by policy") && text.contains("inventory.nodes"), "{text}");
    let (status, role, decision): (String, String, Value) = sqlx::query_as(
        "SELECT status, actor_role, decision FROM operations WHERE actor = 'dev-user' AND tool = 'list_nodes'",
    )
    .fetch_one(&stack.db.pool)
    .await
    .unwrap();
    assert_eq!((status.as_str(), role.as_str()), ("denied", "user"));
    assert_eq!(decision["allow"], false);
    assert!(decision["policy_version"].as_str().is_some_and(|v| !v.is_empty()));

    // readonly may list, but cannot read another actor's operation.
    let readonly = stack.client("readonly").await.unwrap();
    let r = readonly.call("list_users", json!({})).await.unwrap();
    assert_eq!(r.is_error, Some(false), "{}", text_of(&r));
    let admin = stack.client("admin").await.unwrap();
    let admins_op = op_id_of(&admin.call("list_roles", json!({})).await.unwrap());
    let r = readonly.call("get_operation", json!({ "op_id": admins_op.to_string() })).await.unwrap();
    assert_eq!(r.is_error, Some(true));
    assert!(text_of(&r).contains("not visible") || text_of(&r).contains("no operation"), "{}", text_of(&r));

    // Bad arguments are refused with a message that names the problem; nothing is queued.
    let r = readonly.call("list_nodes", json!({ "--proxy": "evil" })).await.unwrap();
    assert_eq!(r.is_error, Some(true));
    assert!(text_of(&r).contains("takes no arguments") && text_of(&r).contains("--proxy"), "{}", text_of(&r));
    let r = readonly.call("get_operation", json!({ "op_id": "-rf" })).await.unwrap();
    assert!(text_of(&r).contains("not an operation id"), "{}", text_of(&r));
    // Refused and invalid calls are in the trail too, with their (redacted) inputs.
    let trail: Vec<(String, String, Option<String>)> =
        sqlx::query_as("SELECT tool, status, error FROM operations WHERE actor = 'dev-readonly' ORDER BY created_at")
            .fetch_all(&stack.db.pool)
            .await
            .unwrap();
    // Another actor's operation is refused by the decision (as a missing one would be: readonly
    // sees only its own objects), so check_policy can say so before the call.
    let failed: Vec<_> = trail.iter().filter(|(_, s, _)| s == "failed").collect();
    assert_eq!(failed.len(), 2, "{trail:?}");
    assert!(failed.iter().all(|(_, _, e)| e.is_some()), "{trail:?}");
    let denied: Vec<_> = trail.iter().filter(|(t, s, _)| t == "get_operation" && s == "denied").collect();
    assert_eq!(denied.len(), 1, "{trail:?}");
    stack.stop().await;
}

#[tokio::test]
async fn list_tokens_never_returns_or_stores_a_secret() {
    let mut stack = Stack::start(StackOptions::default()).await.unwrap();
    // The secret join-token names of the demo cluster, read from the simulator itself.
    let sim = mtcp_cli::dev::simulator_binary().unwrap();
    let out = std::process::Command::new(&sim).arg("demo-state").output().unwrap();
    let state: Value = serde_json::from_slice(&out.stdout).unwrap();
    let secrets: Vec<String> = state["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["spec"]["join_method"] == "token")
        .map(|t| t["metadata"]["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(!secrets.is_empty(), "the demo cluster has static secret tokens");

    let admin = stack.client("admin").await.unwrap();
    let r = admin.call("list_tokens", json!({})).await.unwrap();
    assert_eq!(r.is_error, Some(false), "{}", text_of(&r));
    let shown = serde_json::to_string(&r).unwrap();
    let stored: Vec<(Option<String>, Option<Value>)> =
        sqlx::query_as("SELECT stdout, result FROM operations WHERE tool = 'list_tokens'")
            .fetch_all(&stack.db.pool)
            .await
            .unwrap();
    let stored = format!("{stored:?}");
    for secret in &secrets {
        assert!(!shown.contains(secret.as_str()), "result leaks {secret}");
        assert!(!stored.contains(secret.as_str()), "database leaks {secret}");
    }
    stack.stop().await;
}

#[tokio::test]
async fn a_teleport_failure_is_a_tool_error_with_teleports_message() {
    let opts = StackOptions {
        sim_env: BTreeMap::from([("TELEPORT_SIM_FAIL".into(), "access_denied".into())]),
        ..Default::default()
    };
    let mut stack = Stack::start(opts).await.unwrap();
    let admin = stack.client("admin").await.unwrap();
    let r = admin.call("list_nodes", json!({})).await.unwrap();
    assert_eq!(r.is_error, Some(true));
    let text = text_of(&r);
    assert!(text.contains(r#"access denied to perform action "list" on "node""#), "{text}");
    let (status, exit_code): (String, Option<i32>) =
        sqlx::query_as("SELECT status, exit_code FROM operations WHERE op_id = $1")
            .bind(op_id_of(&r))
            .fetch_one(&stack.db.pool)
            .await
            .unwrap();
    assert_eq!((status.as_str(), exit_code), ("failed", Some(1)));
    stack.stop().await;
}

#[tokio::test]
async fn a_hanging_cli_ends_timed_out_after_the_configured_timeout() {
    let opts = StackOptions {
        cli_timeout: Duration::from_secs(1),
        sim_env: BTreeMap::from([("TELEPORT_SIM_HANG".into(), "1".into())]),
        ..Default::default()
    };
    let mut stack = Stack::start(opts).await.unwrap();
    let admin = stack.client("admin").await.unwrap();
    let started = std::time::Instant::now();
    let r = admin.call("list_cas", json!({})).await.unwrap();
    let took = started.elapsed();
    assert_eq!(r.is_error, Some(true));
    assert!(text_of(&r).contains("timed out"), "{}", text_of(&r));
    assert!(took >= Duration::from_secs(1), "killed before the timeout: {took:?}");
    let status: String = sqlx::query_scalar("SELECT status FROM operations WHERE op_id = $1")
        .bind(op_id_of(&r))
        .fetch_one(&stack.db.pool)
        .await
        .unwrap();
    assert_eq!(status, "timed_out");
    stack.stop().await;
}

/// The exact command line of every CLI run is kept with its operation and shown by
/// `get_operation` and `search_operations`: what was run, not only what was asked for.
#[tokio::test]
async fn each_operation_keeps_the_command_lines_it_ran() {
    let mut stack = Stack::start(StackOptions::default()).await.unwrap();
    let admin = stack.client("admin").await.unwrap();
    let op = op_id_of(&admin.call("list_nodes", json!({})).await.unwrap());
    let view = admin.call("get_operation", json!({ "op_id": op.to_string() })).await.unwrap();
    let view = view.structured_content.unwrap();
    let runs = view["runs"].as_array().unwrap_or_else(|| panic!("{view}"));
    assert_eq!(runs.len(), 1, "{view}");
    let argv: Vec<&str> = runs[0]["argv"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    assert_eq!(argv[0], "tctl");
    assert!(argv.contains(&"-i") && argv.contains(&"--auth-server"), "the global flags are part of it: {argv:?}");
    assert!(argv.ends_with(&["get", "nodes", "--format=json"]), "{argv:?}");
    assert_eq!((runs[0]["outcome"].as_str(), runs[0]["exit_code"].as_i64()), (Some("exited"), Some(0)));

    // A health check runs several commands: each is kept, in order.
    let health = op_id_of(&admin.call("run_health_check", json!({})).await.unwrap());
    let found = admin.call("search_operations", json!({ "capability": "health.check" })).await.unwrap();
    let found = found.structured_content.unwrap();
    let row = found["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["op_id"] == health.to_string())
        .unwrap_or_else(|| panic!("{found}"));
    let lines: Vec<String> = row["argv"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect::<Vec<_>>().join(" "))
        .collect();
    assert!(lines.len() > 1 && lines.iter().all(|l| l.starts_with("tctl ")), "{lines:?}");
    assert!(lines.iter().any(|l| l.contains(" status")), "{lines:?}");
    admin.close().await;
    stack.stop().await;
}
