//! Cancellation end to end: a closed call stream, a `notifications/cancelled` sent to another
//! replica, and `tasks/cancel` each stop the running `tctl` (its process group is gone) and end the
//! operation `cancelled`; a cancelled `start_proxy` leaves no lease process behind.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use mtcp_tests::{McpClient, Stack, StackOptions};
use rmcp::model::{ServerResult, TaskStatus};
use serde_json::{Value, json};

/// A stack whose simulator hangs on `command` (e.g. "get nodes") until killed.
async fn hanging_stack(command: &str) -> Stack {
    let sim_env = BTreeMap::from([
        ("TELEPORT_SIM_HANG".to_owned(), "1".to_owned()),
        ("TELEPORT_SIM_FAIL_ON".to_owned(), command.to_owned()),
    ]);
    let opts = StackOptions { sim_env, cli_timeout: Duration::from_secs(120), ..Default::default() };
    Stack::start(opts).await.unwrap()
}

/// Processes of this stack's simulator whose command line contains `words`.
fn sim_processes(stack: &Stack, words: &str) -> Vec<i32> {
    let marker = stack.dir.path().display().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let pid: i32 = e.file_name().to_string_lossy().parse().ok()?;
            let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            let zombie = stat.rsplit(')').next().is_some_and(|r| r.trim_start().starts_with('Z'));
            (cmdline.contains(&marker) && cmdline.contains(words) && !zombie).then_some(pid)
        })
        .collect()
}

/// POST one JSON-RPC message to `/mcp` as a 2025-11-25 client; the response streams.
async fn post(base: &str, key: &str, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base}/mcp"))
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

fn call(id: &str, tool: &str, args: Value) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call", "params": { "name": tool, "arguments": args } })
}

/// The newest operation of `tool` once it is `status`.
async fn op_in(stack: &Stack, tool: &str, status: &str) -> uuid::Uuid {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let id: Option<uuid::Uuid> = sqlx::query_scalar(
            "SELECT op_id FROM operations WHERE tool = $1 AND status = $2 ORDER BY created_at DESC LIMIT 1",
        )
        .bind(tool)
        .bind(status)
        .fetch_optional(&stack.db.pool)
        .await
        .unwrap();
        if let Some(id) = id {
            return id;
        }
        assert!(Instant::now() < deadline, "no {tool} operation became {status}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Wait for the operation to end; returns (status, error).
async fn ended(stack: &Stack, op_id: uuid::Uuid) -> (String, Option<String>) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let row: (String, Option<String>) = sqlx::query_as("SELECT status, error FROM operations WHERE op_id = $1")
            .bind(op_id)
            .fetch_one(&stack.db.pool)
            .await
            .unwrap();
        if !matches!(row.0.as_str(), "queued" | "running") || Instant::now() > deadline {
            return row;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn closing_the_call_stream_cancels_the_run_and_kills_its_process() {
    let mut stack = hanging_stack("get nodes").await;
    let key = stack.key("operator").to_owned();
    let response = post(&stack.base, &key, call("c-1", "list_nodes", json!({}))).await;
    let op = op_in(&stack, "list_nodes", "running").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while sim_processes(&stack, "get nodes").is_empty() {
        assert!(Instant::now() < deadline, "tctl get nodes never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(response);
    let (status, error) = ended(&stack, op).await;
    assert_eq!(status, "cancelled", "{error:?}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !sim_processes(&stack, "get nodes").is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(sim_processes(&stack, "get nodes").is_empty(), "tctl outlived the cancelled call");
    stack.stop().await;
}

#[tokio::test]
async fn a_cancel_notification_sent_to_another_replica_stops_the_call() {
    let mut stack = hanging_stack("get nodes").await;
    let other = mtcp_gateway::Application::build(stack.config.clone(), stack.shutdown.clone()).await.unwrap();
    let other_base = format!("http://{}", other.local_addr());
    tokio::spawn(other.run_until_stopped());
    let key = stack.key("operator").to_owned();
    let base = stack.base.clone();
    let call_key = key.clone();
    // The call's stream stays open on the first gateway and receives the final answer.
    let waiting = tokio::spawn(async move {
        let r = post(&base, &call_key, call("req-7", "list_nodes", json!({}))).await;
        r.text().await.unwrap_or_default()
    });
    let op = op_in(&stack, "list_nodes", "running").await;
    // Another actor's cancellation of the same request id touches nothing.
    let note = |actor_key: String| {
        let base = other_base.clone();
        async move {
            let n =
                json!({ "jsonrpc": "2.0", "method": "notifications/cancelled", "params": { "requestId": "req-7" } });
            post(&base, &actor_key, n).await.status()
        }
    };
    assert!(note(stack.key("admin").to_owned()).await.is_success());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let still: String = sqlx::query_scalar("SELECT status FROM operations WHERE op_id = $1")
        .bind(op)
        .fetch_one(&stack.db.pool)
        .await
        .unwrap();
    assert_eq!(still, "running", "a different actor cannot cancel it");
    assert!(note(key).await.is_success());
    let (status, _) = ended(&stack, op).await;
    assert_eq!(status, "cancelled");
    let answer = tokio::time::timeout(Duration::from_secs(10), waiting).await.unwrap().unwrap();
    assert!(answer.contains("cancelled"), "the open stream got the outcome: {answer}");
    assert!(sim_processes(&stack, "get nodes").is_empty(), "tctl outlived the cancelled call");
    stack.stop().await;
}

#[tokio::test]
async fn tasks_cancel_ends_a_running_task_cancelled() {
    let mut stack = hanging_stack("get nodes").await;
    let c = McpClient::connect_with_tasks(&stack.url, Some(stack.key("operator"))).await.unwrap();
    let task = match c.call_raw("run_health_check", json!({})).await.unwrap() {
        ServerResult::CreateTaskResult(t) => t.task,
        other => panic!("expected a task: {other:?}"),
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while sim_processes(&stack, "get nodes").is_empty() {
        assert!(Instant::now() < deadline, "the health check never reached tctl get nodes");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    c.cancel_task(&task.task_id).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        let t = c.get_task(&task.task_id).await.unwrap();
        if t.task.task.status.is_terminal() || Instant::now() > deadline {
            break t.task.task.status;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(status, TaskStatus::Cancelled);
    assert!(sim_processes(&stack, "get nodes").is_empty(), "tctl outlived the cancelled task");
    stack.stop().await;
}

#[tokio::test]
async fn a_queued_call_cancelled_before_any_worker_took_it_never_runs() {
    let mut stack = Stack::start(StackOptions { worker: false, ..Default::default() }).await.unwrap();
    let key = stack.key("operator").to_owned();
    let response = post(&stack.base, &key, call("q-1", "list_nodes", json!({}))).await;
    let op = op_in(&stack, "list_nodes", "queued").await;
    drop(response);
    let (status, error) = ended(&stack, op).await;
    assert_eq!(status, "cancelled");
    assert!(error.unwrap_or_default().contains("nothing ran"));
    stack.stop().await;
}

#[tokio::test]
async fn a_start_proxy_cancelled_while_starting_leaves_no_process() {
    // The proxy takes 2 s to come up: the caller goes away meanwhile.
    let sim_env = BTreeMap::from([
        ("TELEPORT_SIM_DELAY_MS".to_owned(), "2000".to_owned()),
        ("TELEPORT_SIM_FAIL_ON".to_owned(), "proxy app".to_owned()),
    ]);
    let mut stack = Stack::start(StackOptions { sim_env, ..Default::default() }).await.unwrap();
    let key = stack.key("operator").to_owned();
    let args = json!({ "kind": "proxy_app", "target": { "app": "grafana" }, "reason": "cancel test" });
    let response = post(&stack.base, &key, call("p-1", "start_proxy", args)).await;
    let op = op_in(&stack, "start_proxy", "running").await;
    drop(response);
    let (status, _) = ended(&stack, op).await;
    assert_eq!(status, "cancelled");
    let deadline = Instant::now() + Duration::from_secs(10);
    let (lease_status, reason, pid): (String, Option<String>, Option<i32>) = loop {
        let row: (String, Option<String>, Option<i32>) =
            sqlx::query_as("SELECT status, stop_reason, pid FROM leases WHERE op_id = $1")
                .bind(op)
                .fetch_one(&stack.db.pool)
                .await
                .unwrap();
        if !matches!(row.0.as_str(), "starting" | "active" | "stopping") || Instant::now() > deadline {
            break row;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!((lease_status.as_str(), reason.as_deref()), ("stopped", Some("cancelled")));
    if let Some(pid) = pid {
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}/cmdline")).exists()
                || std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z")),
            "the proxy process {pid} outlived its cancelled start"
        );
    }
    assert!(sim_processes(&stack, "proxy app").is_empty(), "a proxy process outlived its cancelled start");
    stack.stop().await;
}
