//! The access plane end to end: requests made by humans reviewed through the control plane;
//! requests made through the control plane left to human reviewers; withdrawal; own-objects
//! limits; and at-most-once creation when a worker dies mid-call.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use mtcp_tests::client::text_of;
use mtcp_tests::sim::run as sim;
use mtcp_tests::{McpClient, Stack, StackOptions};
use serde_json::{Value, json};

async fn stack_with(state_dir: &Path) -> Stack {
    let sim_env = BTreeMap::from([("TELEPORT_SIM_STATE_DIR".to_owned(), state_dir.display().to_string())]);
    Stack::start(StackOptions { sim_env, ..Default::default() }).await.unwrap()
}

async fn state_of(c: &McpClient, id: &str) -> String {
    let r = c.call("show_access_request", json!({ "request_id": id })).await.unwrap();
    assert_eq!(r.is_error, Some(false), "{}", text_of(&r));
    r.structured_content.unwrap()["state"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_humans_request_is_reviewed_and_ours_are_left_to_humans() {
    let dir = tempfile::tempdir().unwrap();
    let human =
        sim(dir.path(), &["tctl", "requests", "create", "alice", "--roles", "access", "--reason", "INC-9 debug"]);
    let mut stack = stack_with(dir.path()).await;
    let operator = stack.client("operator").await.unwrap();

    let r = operator
        .call("review_access_request", json!({ "request_id": human, "approve": true, "reason": "on call" }))
        .await
        .unwrap();
    assert_eq!(r.is_error, Some(false), "{}", text_of(&r));
    assert_eq!(r.structured_content.unwrap()["state"], "approved");
    let list = operator.call("list_access_requests", json!({})).await.unwrap().structured_content.unwrap();
    let listed = list["requests"].as_array().unwrap().iter().find(|q| q["id"] == human.as_str()).unwrap().clone();
    assert_eq!((listed["state"].as_str(), listed["user"].as_str()), (Some("approved"), Some("alice")));

    // A request made through the control plane: pending, naming who asked, for a human to review.
    let r = operator
        .call("create_access_request", json!({ "resources": ["access"], "reason": "rotate certs", "ticket": "CHG-7" }))
        .await
        .unwrap();
    assert_eq!(r.is_error, Some(false), "{}", text_of(&r));
    let ours = r.structured_content.unwrap()["request_id"].as_str().unwrap().to_owned();
    let shown =
        operator.call("show_access_request", json!({ "request_id": ours })).await.unwrap().structured_content.unwrap();
    assert_eq!(shown["state"], "pending");
    let reason = shown["reason"].as_str().unwrap();
    assert!(
        reason.contains("rotate certs") && reason.contains("actor=dev-operator") && reason.contains("CHG-7"),
        "{reason}"
    );
    let refs: Value =
        sqlx::query_scalar("SELECT teleport_audit_refs FROM operations WHERE tool = 'create_access_request'")
            .fetch_one(&stack.db.pool)
            .await
            .unwrap();
    assert_eq!(refs[0]["id"], ours.as_str(), "the operation links the Teleport request");

    for role in ["operator", "admin"] {
        let c = stack.client(role).await.unwrap();
        let r = c
            .call("review_access_request", json!({ "request_id": ours, "approve": true, "reason": "lgtm" }))
            .await
            .unwrap();
        let text = text_of(&r);
        assert!(text.contains("denied by policy"), "{role}: {text}");
        let why =
            if role == "operator" { "nobody reviews their own request" } else { "a human reviewer must review it" };
        assert!(text.contains(why), "{role}: {text}");
    }
    assert_eq!(state_of(&operator, &ours).await, "pending", "the refused reviews never reached Teleport");

    // Withdraw: Teleport deletes the request, pending or approved (the approved one with --force).
    let r = operator.call("drop_access_request", json!({ "request_id": ours, "reason": "not needed" })).await.unwrap();
    let result = r.structured_content.clone().unwrap();
    assert_eq!((result["action"].as_str(), result["deleted"].as_bool()), (Some("deleted"), Some(true)), "{result}");
    let gone = operator.call("show_access_request", json!({ "request_id": ours })).await.unwrap();
    assert!(gone.is_error == Some(true) && text_of(&gone).contains("Not found in Teleport"), "{}", text_of(&gone));
    let r = operator.call("drop_access_request", json!({ "request_id": human, "reason": "done" })).await.unwrap();
    let result = r.structured_content.clone().unwrap();
    assert_eq!((result["action"].as_str(), result["previous_state"].as_str()), (Some("deleted"), Some("approved")));
    assert!(result["summary"].as_str().unwrap().contains("keep working until"), "{result}");
    let gone = operator.call("show_access_request", json!({ "request_id": human })).await.unwrap();
    assert!(text_of(&gone).contains("no access request matching"), "{}", text_of(&gone));
    stack.stop().await;
}

#[tokio::test]
async fn users_see_and_withdraw_only_their_own_requests() {
    let dir = tempfile::tempdir().unwrap();
    let human = sim(dir.path(), &["tctl", "requests", "create", "alice", "--roles", "access"]);
    let mut stack = stack_with(dir.path()).await;
    let user = stack.client("user").await.unwrap();
    let mine =
        user.call("create_access_request", json!({ "resources": ["access"], "reason": "need logs" })).await.unwrap();
    let mine = mine.structured_content.unwrap()["request_id"].as_str().unwrap().to_owned();
    let list = user.call("list_access_requests", json!({})).await.unwrap().structured_content.unwrap();
    let ids: Vec<&str> = list["requests"].as_array().unwrap().iter().map(|q| q["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [mine.as_str()], "only the user's own request is listed");
    for (tool, args) in [
        ("show_access_request", json!({ "request_id": human })),
        ("drop_access_request", json!({ "request_id": human, "reason": "x" })),
    ] {
        let r = user.call(tool, args).await.unwrap();
        assert!(text_of(&r).contains("only act on its own requests"), "{tool}: {}", text_of(&r));
    }
    let r = user
        .call("review_access_request", json!({ "request_id": human, "approve": true, "reason": "x" }))
        .await
        .unwrap();
    assert!(text_of(&r).contains("access.review"), "{}", text_of(&r));
    stack.stop().await;
}

/// Kill every process whose environment names `marker` (the simulator a killed worker left hanging).
fn kill_marked(marker: &str) {
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
        if String::from_utf8_lossy(&environ).contains(marker)
            && let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>()
            && pid != std::process::id() as i32
        {
            let _ = std::process::Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
    }
}

#[tokio::test]
async fn a_worker_killed_during_a_create_never_creates_twice() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().display().to_string();
    let sim_env = BTreeMap::from([
        ("TELEPORT_SIM_STATE_DIR".to_owned(), marker.clone()),
        ("TELEPORT_SIM_HANG_AFTER".to_owned(), "1".to_owned()),
        ("TELEPORT_SIM_FAIL_ON".to_owned(), "request create".to_owned()),
    ]);
    let opts = StackOptions { sim_env, worker: false, call_budget: Duration::from_secs(2), ..Default::default() };
    let mut stack = Stack::start(opts).await.unwrap();
    let spawn_worker = || stack.worker_process();
    let count = || -> usize {
        let listed = sim(dir.path(), &["tctl", "requests", "ls", "--format=json"]);
        serde_json::from_str::<Value>(&listed).unwrap().as_array().unwrap().len()
    };
    let before = count();
    let mut first = spawn_worker();
    let operator = stack.client("operator").await.unwrap();
    let r = operator
        .call("create_access_request", json!({ "resources": ["access"], "reason": "crash test" }))
        .await
        .unwrap();
    assert!(text_of(&r).contains("still running"), "the create hangs after creating: {}", text_of(&r));
    let op_id = r.meta.unwrap().0["mtcp/op_id"].as_str().unwrap().to_owned();
    // The request exists in Teleport; the worker dies before it can report.
    assert_eq!(count(), before + 1);
    first.kill().unwrap();
    let _ = first.wait();
    kill_marked(&marker);

    let mut second = spawn_worker();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let (status, error) = loop {
        let row: (String, Option<String>) =
            sqlx::query_as("SELECT status, error FROM operations WHERE op_id = $1::uuid")
                .bind(&op_id)
                .fetch_one(&stack.db.pool)
                .await
                .unwrap();
        if row.0 != "running" && row.0 != "queued" || std::time::Instant::now() > deadline {
            break row;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let _ = second.kill();
    let _ = second.wait();
    kill_marked(&marker);
    assert_eq!(status, "failed");
    let error = error.unwrap();
    assert!(error.contains("outcome_unknown") && error.contains("Verify"), "{error}");
    assert_eq!(count(), before + 1, "no second request");
    stack.stop().await;
}
