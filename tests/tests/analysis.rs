//! scan_rbac and run_health_check end to end, on the simulator's demo cluster (seeded with risks,
//! version skew and a CA rotation past its grace period) and on a clean cluster.

use mtcp_tests::client::text_of;
use mtcp_tests::{Stack, StackOptions};
use serde_json::{Value, json};

fn op_id(r: &rmcp::model::CallToolResult) -> uuid::Uuid {
    r.meta.as_ref().unwrap().0["mtcp/op_id"].as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn scan_rbac_finds_each_seeded_risk_of_the_demo_cluster() {
    let mut stack = Stack::start(StackOptions::default()).await.unwrap();
    let c = stack.client("readonly").await.unwrap();
    let r = c.call("scan_rbac", json!({})).await.unwrap();
    assert_eq!(r.is_error, Some(false), "{}", text_of(&r));
    let report = r.structured_content.clone().unwrap();
    let findings = report["findings"].as_array().unwrap();
    let has = |id: &str, subject: &str| findings.iter().any(|f| f["id"] == id && f["subject"] == subject);
    for (id, subject) in [
        ("RBAC-001", "cluster-admin"), // wildcard rules
        ("RBAC-002", "ops-root"),      // root on every node
        ("RBAC-003", "impersonator"),  // impersonation
        ("RBAC-004", "dev-requester"), // requests a privileged role without thresholds
        ("RBAC-009", "long-session"),  // 720h sessions
        ("RBAC-011", "dave"),          // locked user still holding a privileged role
        ("RBAC-016", "access"),        // preset: MCP tools ({{internal.mcp_tools}}) on every app
    ] {
        assert!(has(id, subject), "{id} on {subject} missing: {report}");
    }
    assert!(findings.iter().any(|f| f["id"] == "RBAC-007"), "weak second factor");
    assert!(findings.iter().any(|f| f["id"] == "RBAC-013"), "static join token");
    assert!(findings.iter().all(|f| f["remediation"].as_str().is_some_and(|s| !s.is_empty())));
    assert!(report["summary"]["critical"].as_u64().unwrap() >= 3, "{}", report["summary"]);
    // Progress was reported per step, in order.
    let steps: Vec<Value> = sqlx::query_scalar("SELECT payload FROM operation_events WHERE op_id = $1 ORDER BY seq")
        .bind(op_id(&r))
        .fetch_all(&stack.db.pool)
        .await
        .unwrap();
    let progress: Vec<u64> = steps.iter().map(|s| s["progress"].as_u64().unwrap()).collect();
    assert_eq!(progress, [1, 2, 3, 4, 5], "{steps:?}");
    stack.stop().await;
}

const CLEAN: &str = r#"{
  "cluster_name": "teleport.example.com",
  "version": "18.1.4",
  "roles": [{"kind": "role", "version": "v8", "metadata": {"name": "viewer"},
    "spec": {"options": {"max_session_ttl": "8h0m0s", "forward_agent": false},
             "allow": {"logins": ["ubuntu"], "node_labels": {"env": "dev"}}, "deny": {}}},
    {"kind": "role", "version": "v8", "metadata": {"name": "mcp-reader"},
    "spec": {"options": {"max_session_ttl": "8h0m0s"},
             "allow": {"app_labels": {"teleport.internal/app-sub-kind": "mcp", "env": "dev"},
                       "mcp": {"tools": ["search-files", "^(get|list|read)_.*$"]}},
             "deny": {"mcp": {"tools": ["read_secrets", "^delete_.*$"]}}}}],
  "users": [{"kind": "user", "version": "v2", "metadata": {"name": "bob"},
    "spec": {"roles": ["viewer"], "traits": {"logins": ["ubuntu"]},
             "status": {"is_locked": false, "locked_time": "0001-01-01T00:00:00Z", "lock_expires": "0001-01-01T00:00:00Z"},
             "expires": "0001-01-01T00:00:00Z"}}],
  "tokens": [],
  "auth_preference": {"kind": "cluster_auth_preference", "version": "v2", "metadata": {"name": "cluster-auth-preference"},
    "spec": {"type": "local", "second_factors": ["webauthn"], "require_session_mfa": true,
             "allow_local_auth": true, "device_trust": {"mode": "required"}, "locking_mode": "strict"}}
}"#;

#[tokio::test]
async fn scan_rbac_finds_nothing_on_a_clean_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("clean.json");
    std::fs::write(&state, CLEAN).unwrap();
    let mut stack = Stack::start(StackOptions { sim_state: Some(state), ..Default::default() }).await.unwrap();
    let c = stack.client("operator").await.unwrap();
    let r = c.call("scan_rbac", json!({})).await.unwrap();
    assert_eq!(r.is_error, Some(false), "{}", text_of(&r));
    let report = r.structured_content.unwrap();
    assert_eq!(report["findings"], json!([]), "{report}");
    assert_eq!(report["roles_scanned"], 2, "a well-scoped MCP role is clean too");
    stack.stop().await;
}

#[tokio::test]
async fn the_health_check_reports_rotation_and_skew_failing_checks_first() {
    let mut stack = Stack::start(StackOptions::default()).await.unwrap();
    let c = stack.client("operator").await.unwrap();
    let r = c.call("run_health_check", json!({})).await.unwrap();
    assert_eq!(r.is_error, Some(false), "{}", text_of(&r));
    let report = r.structured_content.clone().unwrap();
    assert_eq!(report["status"], "fail");
    let checks = report["checks"].as_array().unwrap();
    let check = |id: &str| checks.iter().find(|c| c["id"] == id).unwrap_or_else(|| panic!("{id} missing: {report}"));
    let cas = check("teleport.cert_authorities");
    assert_eq!(cas["status"], "fail");
    assert!(cas["message"].as_str().unwrap().contains("grace"), "{cas}");
    let versions = check("teleport.versions");
    assert_eq!(versions["status"], "fail", "{versions}");
    for id in ["CP-DB", "CP-QUEUE", "CP-WORKERS", "CP-LEASES", "CP-IDENTITY"] {
        assert_eq!(check(id)["status"], "ok", "{id}");
    }
    let identity = check("CP-IDENTITY");
    assert_eq!(identity["details"]["user"], "mcp-control-plane", "{identity}");
    assert_eq!(identity["details"]["roles"], json!([]), "the simulated identity names no roles: {identity}");
    let rights = check("CP-RIGHTS");
    assert_eq!(rights["status"], "skipped", "{rights}");
    assert!(identity["details"]["seconds_left"].as_i64().unwrap() > 300 * 24 * 3600, "{identity}");
    // Failing checks first.
    let order: Vec<&str> = checks.iter().map(|c| c["status"].as_str().unwrap()).collect();
    let first_ok = order.iter().position(|s| *s == "ok").unwrap();
    assert!(
        order[..first_ok].iter().all(|s| *s != "ok") && order[first_ok..].iter().all(|s| *s != "fail"),
        "{order:?}"
    );
    // list_cas carries the rotation as typed fields.
    let cas = c.call("list_cas", json!({})).await.unwrap().structured_content.unwrap();
    let host = cas["cas"].as_array().unwrap().iter().find(|c| c["type"] == "host").unwrap().clone();
    let rot = &host["rotation"];
    assert_eq!((rot["state"].as_str(), rot["phase"].as_str()), (Some("in_progress"), Some("update_clients")), "{host}");
    assert_eq!(rot["past_grace_period"], true, "{host}");
    assert!(rot["age_seconds"].as_u64().unwrap() > rot["grace_period_seconds"].as_u64().unwrap(), "{host}");
    let steps: Vec<Value> = sqlx::query_scalar("SELECT payload FROM operation_events WHERE op_id = $1 ORDER BY seq")
        .bind(op_id(&r))
        .fetch_all(&stack.db.pool)
        .await
        .unwrap();
    let progress: Vec<u64> = steps.iter().map(|s| s["progress"].as_u64().unwrap()).collect();
    assert_eq!(progress, (1..=6).collect::<Vec<u64>>(), "one monotonic step each: {steps:?}");
    assert!(steps.iter().all(|s| s["total"] == 6));
    stack.stop().await;
}

/// The identity the control plane runs as, read afresh at every check: an expired one fails the
/// health check (every tctl/tsh run would fail), one near its end warns.
#[tokio::test]
async fn the_health_check_reports_the_identity_and_its_expiry() {
    let mut stack = Stack::start(StackOptions::default()).await.unwrap();
    let c = stack.client("operator").await.unwrap();
    let path = stack.config.teleport.identity_file.clone().unwrap();
    let identity =
        |c: &Value| c["checks"].as_array().unwrap().iter().find(|c| c["id"] == "CP-IDENTITY").unwrap().clone();
    for (valid_for, status, needle) in [
        (chrono::Duration::days(-1), "fail", "expired at"),
        (chrono::Duration::hours(2), "warn", "is tbot renewing it?"),
    ] {
        std::fs::write(&path, mtcp_tests::identity_file("prod.example.com", "bot-mtcp", valid_for)).unwrap();
        let report = c.call("run_health_check", json!({})).await.unwrap().structured_content.unwrap();
        let check = identity(&report);
        assert_eq!(check["status"], status, "{check}");
        assert!(check["message"].as_str().unwrap().contains(needle), "{check}");
        assert_eq!(check["details"]["user"], "bot-mtcp", "the file is read afresh: {check}");
    }
    stack.stop().await;
}

/// A cluster whose only risks are in its MCP roles (Teleport 18 `mcp.tools`, MCP apps selected by
/// `app_labels`).
fn mcp_state() -> String {
    let role = |name: &str, allow: Value, deny: Value| {
        json!({"kind": "role", "version": "v8", "metadata": {"name": name},
               "spec": {"options": {"max_session_ttl": "8h0m0s"}, "allow": allow, "deny": deny}})
    };
    let mcp = json!({"teleport.internal/app-sub-kind": "mcp"});
    let roles = [
        role("mcp-any-tool", json!({"app_labels": mcp, "mcp": {"tools": ["^.*$"]}}), json!({})),
        role("mcp-every-app", json!({"app_labels": {"*": "*"}, "mcp": {"tools": ["read_file"]}}), json!({})),
        role(
            "mcp-admin",
            json!({"app_labels": mcp, "mcp": {"tools": ["read_file"]},
                   "rules": [{"resources": ["user"], "verbs": ["create", "update"]}]}),
            json!({}),
        ),
        role(
            "mcp-leaky-deny",
            json!({"app_labels": mcp, "mcp": {"tools": ["slack_*"]}}),
            json!({"mcp": {"tools": ["^slack_post.*"]}}),
        ),
        role(
            "mcp-no-tools",
            json!({"app_labels": mcp, "mcp": {"tools": ["read_file"]}}),
            json!({"mcp": {"tools": ["*"]}}),
        ),
    ];
    let mut state: Value = serde_json::from_str(CLEAN).unwrap();
    state["roles"] = json!(roles);
    state["users"][0]["spec"]["roles"] = json!(["mcp-every-app"]);
    state.to_string()
}

#[tokio::test]
async fn scan_rbac_finds_the_mcp_risks() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("mcp.json");
    std::fs::write(&state, mcp_state()).unwrap();
    let mut stack = Stack::start(StackOptions { sim_state: Some(state), ..Default::default() }).await.unwrap();
    let c = stack.client("readonly").await.unwrap();
    let r = c.call("scan_rbac", json!({})).await.unwrap();
    assert_eq!(r.is_error, Some(false), "{}", text_of(&r));
    let report = r.structured_content.unwrap();
    let findings = report["findings"].as_array().unwrap();
    let mut got: Vec<(String, String, String)> = findings
        .iter()
        .filter(|f| f["id"].as_str().is_some_and(|id| id >= "RBAC-015"))
        .map(|f| {
            (
                f["id"].as_str().unwrap().into(),
                f["subject"].as_str().unwrap().into(),
                f["severity"].as_str().unwrap().into(),
            )
        })
        .collect();
    got.sort();
    let expected = [
        ("RBAC-015", "mcp-any-tool", "high"),
        ("RBAC-016", "mcp-every-app", "medium"),
        ("RBAC-017", "mcp-admin", "high"),
        ("RBAC-018", "mcp-leaky-deny", "medium"),
        ("RBAC-019", "mcp-no-tools", "medium"),
    ];
    assert_eq!(got, expected.map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned())), "{report}");
    let leaky = findings.iter().find(|f| f["id"] == "RBAC-018").unwrap();
    assert_eq!(leaky["evidence"]["deny_mcp_tools"][0]["entry"], "^slack_post.*", "{leaky}");
    assert!(findings.iter().all(|f| f["remediation"].as_str().is_some_and(|s| !s.is_empty())));
    stack.stop().await;
}
