//! What an operations console reads, end to end through a real MCP client: `search_operations`
//! filtered by tool and by a time range, and `get_operation`'s detail — the recorded arguments,
//! reason, ticket and decision, the timeline, and the Teleport audit events of the run's window
//! (for roles that may search the audit log only).

use chrono::{DateTime, Duration, Utc};
use mtcp_shared::db::audit::{NewAuditEvent, insert_batch};
use mtcp_tests::client::text_of;
use mtcp_tests::{McpClient, Stack, StackOptions};
use serde_json::{Value, json};

fn op_id_of(result: &rmcp::model::CallToolResult) -> String {
    let meta = result.meta.as_ref().expect("every result carries its op id");
    meta.0["mtcp/op_id"].as_str().unwrap().to_owned()
}

async fn call_ok(client: &McpClient, tool: &str, args: Value) -> (String, Value) {
    let r = client.call(tool, args).await.unwrap();
    assert_eq!(r.is_error, Some(false), "{tool}: {}", text_of(&r));
    (op_id_of(&r), r.structured_content.unwrap_or(Value::Null))
}

async fn detail(client: &McpClient, op_id: &str) -> Value {
    call_ok(client, "get_operation", json!({ "op_id": op_id })).await.1
}

fn ids(found: &Value) -> Vec<&str> {
    found["operations"]
        .as_array()
        .unwrap_or_else(|| panic!("{found}"))
        .iter()
        .map(|o| o["op_id"].as_str().unwrap())
        .collect()
}

fn audit_event(uid: &str, time: DateTime<Utc>) -> NewAuditEvent {
    NewAuditEvent {
        uid: uid.into(),
        time,
        event: "access_request.create".into(),
        code: Some("T5000I".into()),
        user: Some("mtcp-bot".into()),
        success: Some(true),
        remote_addr: Some("10.0.0.7:3025".into()),
        cluster: Some("example".into()),
        raw: json!({ "uid": uid, "event": "access_request.create", "secret_marker": "raw stays out" }),
    }
}

fn audit_uids(view: &Value) -> Vec<&str> {
    view["teleport_audit"]
        .as_array()
        .unwrap_or_else(|| panic!("no teleport_audit: {view}"))
        .iter()
        .map(|e| e["uid"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn search_operations_filters_by_tool_and_time_range_and_names_bad_filters() {
    let mut stack = Stack::start(StackOptions::default()).await.unwrap();
    let admin = stack.client("admin").await.unwrap();
    let (nodes, _) = call_ok(&admin, "list_nodes", json!({})).await;
    let (roles, _) = call_ok(&admin, "list_roles", json!({})).await;

    let (_, found) = call_ok(&admin, "search_operations", json!({ "tool": "list_roles" })).await;
    assert_eq!(ids(&found), vec![roles.as_str()], "{found}");
    assert!(found["operations"].as_array().unwrap().iter().all(|o| o["tool"] == "list_roles"));

    // `until` is exclusive: up to the list_roles call's creation finds list_nodes, not list_roles.
    let (_, all) = call_ok(&admin, "search_operations", json!({})).await;
    let created = |id: &str| {
        let row = all["operations"].as_array().unwrap().iter().find(|o| o["op_id"] == id).unwrap();
        row["created_at"].as_str().unwrap().to_owned()
    };
    let (nodes_at, roles_at) = (created(&nodes), created(&roles));
    let (_, before) = call_ok(&admin, "search_operations", json!({ "since": nodes_at, "until": roles_at })).await;
    assert_eq!(ids(&before), vec![nodes.as_str()], "{before}");
    let (_, both) = call_ok(&admin, "search_operations", json!({ "until": Utc::now().to_rfc3339() })).await;
    assert!(ids(&both).contains(&nodes.as_str()) && ids(&both).contains(&roles.as_str()), "{both}");

    let bad = admin.call("search_operations", json!({ "tool": "list_everything" })).await.unwrap();
    assert_eq!(bad.is_error, Some(true));
    assert!(text_of(&bad).contains("`tool`") && text_of(&bad).contains("list_everything"), "{}", text_of(&bad));
    let empty = admin.call("search_operations", json!({ "since": roles_at, "until": nodes_at })).await.unwrap();
    assert_eq!(empty.is_error, Some(true));
    let msg = text_of(&empty);
    assert!(msg.contains("`until`") && msg.contains("`since`") && msg.contains("later"), "{msg}");
    admin.close().await;
    stack.stop().await;
}

#[tokio::test]
async fn get_operation_shows_the_record_the_timeline_and_the_audit_of_the_run() {
    let mut stack = Stack::start(StackOptions::default()).await.unwrap();
    let admin = stack.client("admin").await.unwrap();

    // The record: arguments (as kept), reason, ticket, role and the policy's decision.
    let (request, _) = call_ok(
        &admin,
        "create_access_request",
        json!({ "resources": ["access"], "reason": "console detail page", "ticket": "CHG-42" }),
    )
    .await;
    let view = detail(&admin, &request).await;
    assert_eq!(view["inputs"]["resources"], json!(["access"]), "{view}");
    assert_eq!((view["reason"].as_str(), view["ticket"].as_str()), (Some("console detail page"), Some("CHG-42")));
    assert_eq!(view["actor_role"], "admin");
    assert_eq!(view["decision"]["allow"], true, "{view}");
    assert!(!view["decision"]["reason"].as_str().unwrap().is_empty(), "{view}");
    let version = view["decision"]["policy_version"].as_str().unwrap();
    let (_, who) = call_ok(&admin, "whoami", json!({})).await;
    assert_eq!(version, who["policy_version"].as_str().unwrap());

    // The timeline: a health check's numbered steps, oldest first.
    let (health, _) = call_ok(&admin, "run_health_check", json!({})).await;
    let view = detail(&admin, &health).await;
    let events = view["events"].as_array().unwrap_or_else(|| panic!("no events: {view}"));
    let steps: Vec<u64> =
        events.iter().filter(|e| e["kind"] == "progress").map(|e| e["payload"]["progress"].as_u64().unwrap()).collect();
    assert!(steps.len() >= 2 && steps.windows(2).all(|w| w[0] < w[1]), "{events:?}");
    let times: Vec<DateTime<Utc>> = events.iter().map(|e| e["at"].as_str().unwrap().parse().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");

    // Teleport audit: an event inside the run's window is listed, one an hour before is not.
    let started: DateTime<Utc> = view["started_at"].as_str().unwrap().parse().unwrap();
    let events = [
        audit_event("in-window", started + Duration::seconds(1)),
        audit_event("long-before", started - Duration::hours(1)),
    ];
    insert_batch(&stack.db.pool, &events).await.unwrap();
    let view = detail(&admin, &health).await;
    let uids = audit_uids(&view);
    assert!(uids.contains(&"in-window") && !uids.contains(&"long-before"), "{view}");
    let entry = view["teleport_audit"].as_array().unwrap().iter().find(|e| e["uid"] == "in-window").unwrap();
    assert_eq!((entry["event"].as_str(), entry["code"].as_str()), (Some("access_request.create"), Some("T5000I")));
    assert_eq!((entry["user"].as_str(), entry["success"].as_bool()), (Some("mtcp-bot"), Some(true)));
    assert!(!view.to_string().contains("raw stays out"), "the raw event is not shown: {view}");

    // A role without audit.search sees its own operation's detail, but no audit events; an admin
    // looking at the same operation does see the one in its window.
    let user = stack.client("user").await.unwrap();
    let (own, _) = call_ok(&user, "list_databases", json!({})).await;
    let mine = detail(&user, &own).await;
    let started: DateTime<Utc> = mine["started_at"].as_str().unwrap().parse().unwrap();
    insert_batch(&stack.db.pool, &[audit_event("users-run", started + Duration::seconds(1))]).await.unwrap();
    let mine = detail(&user, &own).await;
    assert!(mine.get("teleport_audit").is_none(), "{mine}");
    assert_eq!(mine["actor_role"], "user");
    assert!(audit_uids(&detail(&admin, &own).await).contains(&"users-run"));

    // A call that never ran has no run window.
    let denied = user.call("list_nodes", json!({})).await.unwrap();
    let denied = detail(&admin, &op_id_of(&denied)).await;
    assert_eq!((denied["status"].as_str(), denied["decision"]["allow"].as_bool()), (Some("denied"), Some(false)));
    assert!(denied.get("teleport_audit").is_none(), "{denied}");
    user.close().await;
    admin.close().await;
    stack.stop().await;
}
