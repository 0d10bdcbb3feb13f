//! `check_policy` answers what the call then does: the same decision, for every built-in role,
//! every tool, and valid arguments, invalid ones and another actor's objects.

use std::sync::Arc;

use mtcp_shared::domain::CATALOG;
use mtcp_tests::client::text_of;
use mtcp_tests::{McpClient, Stack, StackOptions};
use serde_json::{Value, json};

/// `check_policy` takes the call's own decision: it answered "allow" for a VNet by `user`, a TTL
/// over the role's cap, another user's request and one's own review, all then denied.
#[tokio::test]
async fn check_policy_says_what_the_call_then_does() {
    let mut stack = Stack::start(StackOptions::default()).await.unwrap();
    let (user, operator) = (stack.client("user").await.unwrap(), stack.client("operator").await.unwrap());
    let created = operator.call("create_access_request", json!({ "resources": ["access"], "reason": "x" })).await;
    let created = created.unwrap().structured_content.unwrap();
    let theirs = created["request_id"].as_str().unwrap().to_owned();
    let app =
        |ttl: u64| json!({ "kind": "proxy_app", "target": { "app": "grafana" }, "ttl_seconds": ttl, "reason": "x" });
    let cases = [
        (&user, "start_proxy", json!({ "kind": "vnet", "reason": "x" }), false, "may not start vnet"),
        (&user, "start_proxy", app(3600), false, "1800 s maximum"),
        (&user, "start_proxy", app(600), true, ""),
        (&user, "show_access_request", json!({ "request_id": theirs }), false, "not one of yours"),
        (&operator, "show_access_request", json!({ "request_id": theirs }), true, ""),
        (
            &operator,
            "review_access_request",
            json!({ "request_id": theirs, "approve": true, "reason": "x" }),
            false,
            "nobody reviews their own request",
        ),
        (&user, "list_users", json!({}), false, ""),
        (&user, "start_proxy", json!({ "kind": "telnet", "reason": "x" }), false, "invalid arguments"),
    ];
    for (client, tool, arguments, allow, needle) in cases {
        let checked = client.call("check_policy", json!({ "tool": tool, "arguments": arguments })).await.unwrap();
        let checked = checked.structured_content.unwrap();
        assert_eq!(checked["allow"], allow, "check_policy {tool} {arguments}: {checked}");
        assert!(checked["reason"].as_str().unwrap().contains(needle), "{tool} {arguments}: {checked}");
        let called = client.call(tool, arguments.clone()).await.unwrap();
        let text = mtcp_tests::client::text_of(&called);
        assert_eq!(called.is_error, Some(!allow), "the call disagrees with check_policy: {tool} {arguments}: {text}");
        if !allow {
            assert!(text.contains(needle), "{tool} {arguments}: {text}");
        }
    }
    stack.stop().await;
}

/// Objects of one actor: an operation, an access request made through the control plane, a lease.
struct Objects {
    op: String,
    request: Option<String>,
    lease: Option<String>,
}

async fn objects_of(client: &McpClient) -> Objects {
    let op = client.call("whoami", json!({})).await.unwrap();
    let op = op.meta.as_ref().unwrap().0["mtcp/op_id"].as_str().unwrap().to_owned();
    let field = |r: anyhow::Result<rmcp::model::CallToolResult>, key: &str| {
        r.ok().and_then(|r| r.structured_content).and_then(|s| s[key].as_str().map(str::to_owned))
    };
    let request = field(
        client.call("create_access_request", json!({ "resources": ["access"], "reason": "x" })).await,
        "request_id",
    );
    let app = json!({ "kind": "proxy_app", "target": { "app": "grafana" }, "ttl_seconds": 120, "reason": "x" });
    let lease = field(client.call("start_proxy", app).await, "lease_id");
    Objects { op, request, lease }
}

const NOBODYS: &str = "00000000-0000-4000-8000-000000000000";

/// Arguments naming `objects` (the caller's own, or another actor's) where the tool takes an object;
/// None for the "other actor's object" case of a tool that names none.
fn naming(tool: &str, o: &Objects) -> Option<Value> {
    let request = o.request.as_deref().unwrap_or(NOBODYS);
    let lease = o.lease.as_deref().unwrap_or(NOBODYS);
    Some(match tool {
        "get_operation" => json!({ "op_id": o.op }),
        "show_access_request" => json!({ "request_id": request }),
        "drop_access_request" => json!({ "request_id": request, "reason": "x" }),
        "review_access_request" => json!({ "request_id": request, "approve": false, "reason": "x" }),
        "get_proxy_status" | "stop_proxy" => json!({ "lease_id": lease }),
        "get_proxy_logs" => json!({ "lease_id": lease, "tail": 5 }),
        _ => return None,
    })
}

/// Valid arguments for `tool`, naming the caller's own objects.
fn valid(tool: &str, own: &Objects) -> Value {
    naming(tool, own).unwrap_or_else(|| match tool {
        "start_proxy" => {
            json!({ "kind": "proxy_app", "target": { "app": "grafana" }, "ttl_seconds": 60, "reason": "x" })
        }
        "create_access_request" => json!({ "resources": ["access"], "reason": "x" }),
        "check_policy" => json!({ "tool": "list_nodes" }),
        "run_tsh_command" => json!({ "args": ["version"], "reason": "x" }),
        "run_tctl_command" => json!({ "args": ["status"], "reason": "x" }),
        _ => json!({}),
    })
}

/// Whether the call was refused before it ran: by the policy, the rules on objects or the lease
/// limits ("denied by policy"), or for its arguments. Anything else ran (and may have failed).
fn refused(text: &str) -> bool {
    text.starts_with("denied by policy") || text.starts_with("invalid arguments for")
}

#[tokio::test]
async fn check_policy_agrees_with_the_call_for_every_role_tool_and_argument_case() {
    let tweak: mtcp_tests::Tweak = Arc::new(|c| {
        c.policy.allow_tsh_passthrough = true;
        c.policy.allow_tctl_passthrough = true;
    });
    let mut stack = Stack::start(StackOptions { tweak: Some(tweak), ..Default::default() }).await.unwrap();
    // Another actor's objects: the operator's, and the admin's for the operator itself.
    let (admin, operator) = (stack.client("admin").await.unwrap(), stack.client("operator").await.unwrap());
    let (of_admin, of_operator) = (objects_of(&admin).await, objects_of(&operator).await);
    let mut checked_calls = 0;
    for role in ["admin", "operator", "user", "readonly"] {
        let client = stack.client(role).await.unwrap();
        let own = objects_of(&client).await;
        let other = if role == "operator" { &of_admin } else { &of_operator };
        for spec in CATALOG {
            let tool = spec.name;
            let mut cases = vec![("valid", valid(tool, &own)), ("invalid", json!({ "no_such_argument": 1 }))];
            if let Some(theirs) = naming(tool, other) {
                cases.push(("other actor's object", theirs));
            }
            for (case, arguments) in cases {
                let checked =
                    client.call("check_policy", json!({ "tool": tool, "arguments": arguments })).await.unwrap();
                let checked = checked.structured_content.unwrap();
                let called = client.call(tool, arguments.clone()).await.unwrap();
                let text = text_of(&called);
                assert_eq!(
                    checked["allow"] == true,
                    !refused(&text),
                    "{role} {tool} ({case}) {arguments}: check_policy said {checked}, the call: {text}"
                );
                if case == "invalid" {
                    assert_eq!(checked["allow"], false, "{role} {tool}: {checked}");
                }
                checked_calls += 1;
            }
        }
        client.close().await;
    }
    assert!(checked_calls >= 4 * CATALOG.len() * 2, "{checked_calls}");
    stack.stop().await;
}
