//! The gateway driven by the Python clients people use: the official `mcp` SDK and fastmcp (pinned in
//! tests/python/requirements.txt, installed into a virtualenv under the target directory), in both
//! protocol revisions — 2025-11-25 (`initialize`) and 2026-07-28 (`server/discover`) — with progress
//! callbacks, tool errors and the tasks extension. The scripts in tests/python print one JSON summary
//! line; these tests check it against what the Rust client sees.

use std::path::PathBuf;

use futures::future::join_all;
use mtcp_tests::client::text_of;
use mtcp_tests::python::{Venv, scripts_dir};
use mtcp_tests::{Stack, StackOptions};
use serde_json::{Value, json};

const LIBRARIES: [&str; 2] = ["mcp", "fastmcp"];
/// The libraries' `mode=` and the revision it must end up speaking: `legacy` forces `initialize`,
/// `auto` probes `server/discover` first (and would fall back to `initialize`), a version pins it.
const LEGACY: (&str, &str) = ("legacy", "2025-11-25");
const AUTO: (&str, &str) = ("auto", "2026-07-28");
const PINNED: (&str, &str) = ("2026-07-28", "2026-07-28");

/// The virtualenv for a requirements file in tests/python (made on first use).
async fn venv(requirements: &str) -> Venv {
    let file = scripts_dir().join(requirements);
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    tokio::task::spawn_blocking(move || Venv::ensure(&file, &root)).await.unwrap().unwrap()
}

/// Run `script` as `role` for every library in every given mode, concurrently; each summary comes
/// back with a label naming the run and the revision it must have spoken.
async fn each_client(
    venv: &Venv,
    stack: &Stack,
    role: &str,
    script: &str,
    modes: &[(&'static str, &'static str)],
) -> Vec<(String, &'static str, Value)> {
    let runs = LIBRARIES.iter().flat_map(|lib| modes.iter().map(move |&(mode, rev)| (*lib, mode, rev)));
    join_all(runs.map(|(lib, mode, rev)| async move {
        let summary = venv.run(script, &["--library", lib, "--mode", mode], &stack.url, stack.key(role)).await;
        (format!("{script} --library {lib} --mode {mode}"), rev, summary.unwrap())
    }))
    .await
}

/// What went over the wire shows the revision: 2025-11-25 opens with `initialize` for that version
/// and sends the MCP-Protocol-Version header after it; 2026-07-28 never initializes (`auto` discovers
/// first) and stamps every request, header and `_meta`, with 2026-07-28.
fn assert_spoke(wire: &Value, revision: &str, discovered: bool, run: &str) {
    let requests = wire.as_array().unwrap();
    let methods: Vec<&str> = requests.iter().map(|r| r["method"].as_str().unwrap_or_default()).collect();
    if revision == "2025-11-25" {
        assert_eq!((methods[0], &requests[0]["requested"]), ("initialize", &json!(revision)), "{run}: {wire}");
        for r in &requests[1..] {
            assert_eq!((&r["header"], &r["meta"]), (&json!(revision), &Value::Null), "{run}: {r}");
        }
    } else {
        assert!(!methods.contains(&"initialize"), "{run}: {methods:?}");
        assert_eq!(methods[0] == "server/discover", discovered, "{run}: {methods:?}");
        for r in requests {
            assert_eq!((&r["header"], &r["meta"]), (&json!(revision), &json!(revision)), "{run}: {r}");
        }
    }
}

#[tokio::test]
async fn both_libraries_speak_both_revisions_and_list_the_callers_tools() {
    let venv = venv("requirements.txt").await;
    let mut stack = Stack::start(StackOptions::default()).await.unwrap();
    let expected = stack.client("operator").await.unwrap().tool_names().await.unwrap();

    for (run, revision, s) in each_client(&venv, &stack, "operator", "session.py", &[LEGACY, AUTO, PINNED]).await {
        assert_eq!(s["negotiated"], revision, "{run}: {s}");
        assert_spoke(&s["wire"], revision, run.ends_with("auto"), &run);
        let tools: Vec<String> = serde_json::from_value(s["tools"].clone()).unwrap();
        assert_eq!(tools, expected, "{run}");
        let who = &s["whoami"];
        assert_eq!(who["is_error"], false, "{run}: {who}");
        assert_eq!(
            (&who["structured"]["actor"], &who["structured"]["role"]),
            (&json!("dev-operator"), &json!("operator"))
        );
    }
    stack.stop().await;
}

#[tokio::test]
async fn list_nodes_arrives_as_structured_content() {
    let venv = venv("requirements.txt").await;
    let mut stack = Stack::start(StackOptions::default()).await.unwrap();
    let rust = stack.client("operator").await.unwrap().call("list_nodes", json!({})).await.unwrap();
    let nodes = rust.structured_content.unwrap()["nodes"].as_array().unwrap().clone();
    let mut names: Vec<&str> = nodes.iter().map(|n| n["name"].as_str().unwrap()).collect();
    names.sort();

    for (run, _, s) in each_client(&venv, &stack, "operator", "structured.py", &[LEGACY, AUTO]).await {
        assert_eq!(s["is_error"], false, "{run}: {s}");
        assert_eq!(s["names"], json!(names), "{run}");
        assert_eq!(s["count"], names.len(), "{run}: {s}");
        assert!(s["stale_count"].as_u64().is_some_and(|n| n > 0), "{run}: the demo cluster has stale nodes: {s}");
        assert_eq!(s["text_is_structured"], true, "{run}: the text block must carry the same JSON: {s}");
    }
    stack.stop().await;
}

#[tokio::test]
async fn health_check_progress_reaches_the_python_callbacks() {
    let venv = venv("requirements.txt").await;
    let mut stack = Stack::start(StackOptions::default()).await.unwrap();
    let rust = stack.client("operator").await.unwrap();
    let (_, steps) = rust.call_with_progress("run_health_check", json!({})).await.unwrap();
    let messages: Vec<Option<String>> = steps.into_iter().map(|p| p.message).collect();

    for (run, revision, s) in each_client(&venv, &stack, "operator", "progress.py", &[LEGACY, AUTO]).await {
        assert_eq!(s["negotiated"], revision, "{run}");
        assert_eq!(s["is_error"], false, "{run}: {s}");
        assert!(s["checks"].as_u64().is_some_and(|n| n > 0), "{run}: {s}");
        let seen = s["progress"].as_array().unwrap();
        let values: Vec<f64> = seen.iter().map(|p| p["progress"].as_f64().unwrap()).collect();
        assert_eq!(values, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "{run}: {seen:?}");
        assert!(seen.iter().all(|p| p["total"] == 6.0), "{run}: {seen:?}");
        let texts: Vec<Option<String>> = seen.iter().map(|p| p["message"].as_str().map(str::to_owned)).collect();
        assert_eq!(texts, messages, "{run}: the same step messages the Rust client gets");
    }
    stack.stop().await;
}

#[tokio::test]
async fn denied_and_invalid_calls_are_tool_errors_the_caller_can_read() {
    let venv = venv("requirements.txt").await;
    let mut stack = Stack::start(StackOptions::default()).await.unwrap();

    for (run, _, s) in each_client(&venv, &stack, "user", "denied.py", &[LEGACY, AUTO]).await {
        let tools: Vec<&str> = s["tools"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
        assert!(tools.contains(&"whoami") && !tools.contains(&"list_nodes"), "{run}: {tools:?}");
        assert_eq!(s["is_error"], true, "{run}: {s}");
        let text = s["text"].as_str().unwrap();
        assert!(text.contains("denied by policy") && text.contains("inventory.nodes"), "{run}: {text}");
    }
    for (run, _, s) in each_client(&venv, &stack, "operator", "invalid_args.py", &[LEGACY, AUTO]).await {
        let results = s["results"].as_array().unwrap();
        assert_eq!(results.len(), 3, "{run}: {s}");
        for r in results {
            let (args, text) = (&r["args"], r["text"].as_str().unwrap());
            let field = args.as_object().unwrap().keys().next().unwrap();
            assert_eq!(r["is_error"], true, "{run}: {r}");
            assert!(text.contains("invalid arguments") && text.contains(&format!("`{field}`")), "{run}: {text}");
        }
    }
    stack.stop().await;
}

#[tokio::test]
async fn the_sdk_with_the_tasks_extension_polls_a_health_check_to_completion() {
    let venv = venv("requirements.txt").await;
    let mut stack = Stack::start(StackOptions::default()).await.unwrap();
    let key = stack.key("operator").to_owned();

    let s = venv.run("task_mcp.py", &["--mode", "auto"], &stack.url, &key).await.unwrap();
    assert_eq!(
        (&s["negotiated"], &s["kind"], &s["created"]),
        (&json!("2026-07-28"), &json!("task"), &json!("working"))
    );
    let statuses = s["statuses"].as_array().unwrap();
    assert_eq!(statuses.last(), Some(&json!("completed")), "{s}");
    assert!(statuses.iter().all(|st| st == "working" || st == "completed"), "{statuses:?}");
    assert_eq!(s["is_error"], false, "{s}");
    assert!(s["checks"].as_u64().is_some_and(|n| n > 0), "{s}");
    assert_eq!(s["short_tool_kind"], "result", "whoami is never a task: {s}");
    let task_id = s["task_id"].as_str().unwrap();
    let polls: Vec<&Value> = s["wire"].as_array().unwrap().iter().filter(|r| r["method"] == "tasks/get").collect();
    assert!(!polls.is_empty() && polls.iter().all(|r| r["mcp_name"] == task_id), "{polls:?}");
    // The task is the operation.
    let op = stack.client("operator").await.unwrap().call("get_operation", json!({ "op_id": task_id })).await.unwrap();
    assert_eq!(op.structured_content.as_ref().unwrap()["status"], "succeeded", "{}", text_of(&op));

    // 2025-11-25 has no tasks extension: the same client gets the plain result.
    let s = venv.run("task_mcp.py", &["--mode", "legacy"], &stack.url, &key).await.unwrap();
    assert_eq!((&s["negotiated"], &s["kind"], &s["is_error"]), (&json!("2025-11-25"), &json!("result"), &json!(false)));
    stack.stop().await;
}

/// fastmcp-tasks 4.1.4 (the only Python tasks client on PyPI) sends `tasks/get` without the
/// `Mcp-Name: <taskId>` header SEP-2663 requires, and the gateway (rmcp's header validation) refuses
/// it. This pins that finding down — when a new release fixes it, the first half fails and the
/// workaround can go — and shows the header is the only thing missing.
#[tokio::test]
async fn fastmcp_tasks_gets_its_task_but_polls_without_the_required_mcp_name_header() {
    let venv = venv("requirements-tasks.txt").await;
    let mut stack = Stack::start(StackOptions::default()).await.unwrap();
    let key = stack.key("operator").to_owned();

    let s = venv.run("task_fastmcp.py", &[], &stack.url, &key).await.unwrap();
    assert_eq!((&s["negotiated"], &s["created"]), (&json!("2026-07-28"), &json!("working")), "{s}");
    assert_eq!(s["outcome"], "error", "{s}");
    assert!(s["error"].as_str().unwrap().contains("missing required Mcp-Name header for `tasks/get`"), "{s}");
    let polls: Vec<&Value> = s["wire"].as_array().unwrap().iter().filter(|r| r["method"] == "tasks/get").collect();
    assert!(!polls.is_empty() && polls.iter().all(|r| r["mcp_name"].is_null()), "{polls:?}");

    let s = venv.run("task_fastmcp.py", &["--send-mcp-name"], &stack.url, &key).await.unwrap();
    assert_eq!((&s["outcome"], &s["is_error"]), (&json!("result"), &json!(false)), "{s}");
    assert!(s["checks"].as_u64().is_some_and(|n| n > 0), "{s}");
    stack.stop().await;
}
