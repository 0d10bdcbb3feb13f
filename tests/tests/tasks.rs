//! The MCP tasks extension over the operations table: a client that declares it gets a task for a
//! long tool, polls it to completion through another gateway replica, and can cancel it; a client
//! that does not declare it never sees a task.

use std::time::{Duration, Instant};

use mtcp_tests::client::text_of;
use mtcp_tests::{McpClient, Stack, StackOptions};
use rmcp::model::{ServerResult, TaskPayload, TaskStatus};
use serde_json::json;

/// A second gateway on the same database: any replica serves any task.
async fn second_gateway(stack: &Stack) -> String {
    let app = mtcp_gateway::Application::build(stack.config.clone(), stack.shutdown.clone()).await.unwrap();
    let url = format!("http://{}/mcp", app.local_addr());
    tokio::spawn(app.run_until_stopped());
    url
}

#[tokio::test]
async fn a_long_tool_becomes_a_task_readable_through_any_replica() {
    let mut stack = Stack::start(StackOptions::default()).await.unwrap();
    let other = second_gateway(&stack).await;
    let key = stack.key("operator").to_owned();
    let a = McpClient::connect_with_tasks(&stack.url, Some(&key)).await.unwrap();
    let b = McpClient::connect_with_tasks(&other, Some(&key)).await.unwrap();

    let created = match a.call_raw("run_health_check", json!({})).await.unwrap() {
        ServerResult::CreateTaskResult(t) => t,
        other => panic!("expected a task, got {other:?}"),
    };
    let task_id = created.task.task_id.clone();
    assert_eq!(created.task.status, TaskStatus::Working);
    assert!(created.task.poll_interval_ms.is_some());
    let deadline = Instant::now() + Duration::from_secs(20);
    let done = loop {
        let t = b.get_task(&task_id).await.unwrap();
        if t.task.task.status.is_terminal() || Instant::now() > deadline {
            break t;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let TaskPayload::Completed { result } = &done.task.payload else { panic!("not completed: {done:?}") };
    assert_eq!(result["isError"], false, "{result:?}");
    assert!(result["structuredContent"]["checks"].as_array().is_some_and(|c| !c.is_empty()), "{result:?}");
    // The task is the operation: get_operation knows it too.
    let op = b.call("get_operation", json!({ "op_id": task_id })).await.unwrap();
    assert_eq!(op.structured_content.unwrap()["status"], "succeeded");

    // Someone else cannot read it; a short tool is never a task; a client without the extension
    // gets the plain result.
    let user = McpClient::connect_with_tasks(&other, Some(stack.key("user"))).await.unwrap();
    let err = user.get_task(&task_id).await.unwrap_err().to_string();
    assert!(err.contains("no task"), "{err}");
    assert!(matches!(a.call_raw("list_nodes", json!({})).await.unwrap(), ServerResult::CallToolResult(_)));
    let plain = stack.client("operator").await.unwrap();
    let r = plain.call("run_health_check", json!({})).await.unwrap();
    assert_eq!(r.is_error, Some(false), "{}", text_of(&r));
    stack.stop().await;
}
