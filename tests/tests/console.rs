//! The operations console in a real browser (headless Chromium over WebDriver) against real
//! processes: an admin signs in with an API key, filters the trail, opens an operation, approves
//! an operator's waiting database proxy, stops the lease it started, and sees the agents and the
//! policy; a `readonly` user sees no buttons and what it posts anyway is refused; planted
//! `<script>` text in a request reason and a node label shows as text and never runs. Screenshots
//! of each page land in `target/console-screenshots/` (the README's come from there).

use std::sync::Arc;
use std::time::Duration;

use mtcp_tests::browser::Browser;
use mtcp_tests::client::text_of;
use mtcp_tests::{Stack, StackOptions, Tweak};
use serde_json::{Value, json};

/// Operators' database proxies wait for an admin.
const POLICY: &str = r#"
roles:
  operator:
    grants: ["inventory.*", "security.*", "health.*", "audit.*", "access.*", "proxy.*"]
    constraints:
      require_approval:
        capabilities: ["proxy.start"]
        kinds: [proxy_db]
        approvers: { roles: [admin] }
        approvals: 1
        expires_after: 15m
"#;

/// What an attacker plants: it must show as these very characters and never run.
const SCRIPT: &str = "<script>window.__pwned = 1</script>";

async fn start() -> Stack {
    let dir = tempfile::tempdir().unwrap().keep();
    let policy = dir.join("policy.yaml");
    std::fs::write(&policy, POLICY).unwrap();
    let mut state: Value = serde_json::from_str(&mtcp_tests::sim::run(&dir, &["demo-state"])).unwrap();
    state["nodes"][0]["metadata"]["labels"]["note"] = json!(format!("label {SCRIPT}"));
    let state_path = dir.join("planted-state.json");
    std::fs::write(&state_path, serde_json::to_vec(&state).unwrap()).unwrap();
    let tweak: Tweak = Arc::new(move |c| c.policy.path = Some(policy.clone()));
    let opts = StackOptions {
        tweak: Some(tweak),
        sim_state: Some(state_path),
        call_budget: Duration::from_secs(60),
        ..Default::default()
    };
    Stack::start(opts).await.unwrap()
}

/// Sign in through the form with `key`; the browser lands on the role's first page.
async fn sign_in(browser: &Browser, stack: &Stack, key: &str) {
    browser.open(&format!("{}/console", stack.base)).await.unwrap();
    assert!(browser.path().await.unwrap().starts_with("/console/sign-in"), "a new browser is sent to sign in");
    browser.fill("#api_key", key).await.unwrap();
    browser.click("#sign-in").await.unwrap();
}

/// No script of any kind ran or even exists on the page shown.
async fn assert_no_script(browser: &Browser, page: &str) {
    let ran = browser.client.execute("return [typeof window.__pwned, document.scripts.length]", vec![]).await.unwrap();
    assert_eq!(ran, json!(["undefined", 0]), "{page}: a planted script ran or was parsed as one");
}

async fn waiting_op(stack: &Stack) -> String {
    for _ in 0..400 {
        let id: Option<uuid::Uuid> = sqlx::query_scalar(
            "SELECT op_id FROM operations WHERE tool = 'start_proxy' AND status = 'awaiting_approval' LIMIT 1",
        )
        .fetch_optional(&stack.db.pool)
        .await
        .unwrap();
        if let Some(id) = id {
            return id.to_string();
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("no start_proxy call awaits approval");
}

#[tokio::test]
async fn an_admin_filters_the_trail_approves_a_call_and_stops_its_lease_in_a_browser() {
    let mut stack = start().await;
    let operator = stack.client("operator").await.unwrap();
    // Something in the trail with the planted node label in its result.
    let nodes = operator.call("list_nodes", json!({})).await.unwrap();
    assert_eq!(nodes.is_error, Some(false), "{}", text_of(&nodes));
    // An operator's database proxy, with a planted reason, waits for an admin.
    let reason = format!("debug INC-7 {SCRIPT}");
    let args = json!({ "kind": "proxy_db", "target": { "db": "orders", "db_user": "ro" }, "reason": reason, "ttl_seconds": 600 });
    let waiting = tokio::spawn(async move { operator.call("start_proxy", args).await.unwrap() });
    let op_id = waiting_op(&stack).await;

    let browser = Browser::start().await.unwrap();
    browser.open(&format!("{}/console/sign-in", stack.base)).await.unwrap();
    browser.screenshot("sign-in").await.unwrap();
    sign_in(&browser, &stack, stack.key("admin")).await;
    assert_eq!(browser.path().await.unwrap(), "/console/operations", "an admin starts on the trail");
    assert!(browser.text("#signed-in-as").await.unwrap().contains("dev-admin"));

    browser.screenshot("operations").await.unwrap();
    // Filter the trail by tool: only list_nodes rows remain, and one is the operator's.
    let select = browser.client.find(fantoccini::Locator::Css("select[name=tool]")).await.unwrap();
    select.select_by_value("list_nodes").await.unwrap();
    browser.click("#apply-filters").await.unwrap();
    assert!(browser.path().await.unwrap().contains("tool=list_nodes"));
    let rows = browser.text("#operations tbody").await.unwrap();
    assert!(rows.contains("list_nodes") && rows.contains("dev-operator"), "{rows}");
    assert!(!rows.contains("start_proxy"), "the filter keeps other tools out: {rows}");
    browser.screenshot("operations-filtered").await.unwrap();
    // A time that is not one is named, and nothing is searched.
    browser.open(&format!("{}/console/operations?since=yesterday", stack.base)).await.unwrap();
    assert!(browser.text("#filter-error").await.unwrap().contains("since: \"yesterday\" is not a time"));

    // Open the list_nodes operation: its result carries the planted label, as text.
    browser.open(&format!("{}/console/operations?tool=list_nodes", stack.base)).await.unwrap();
    browser.click("#operations tbody a").await.unwrap();
    assert!(browser.path().await.unwrap().starts_with("/console/operations/"));
    assert_eq!(browser.text("#op-status").await.unwrap(), "succeeded");
    assert!(browser.text("#op-result").await.unwrap().contains(SCRIPT), "the label shows as typed");
    let runs = browser.text("#op-runs").await.unwrap();
    assert!(runs.contains("get nodes"), "the command that ran: {runs}");
    assert_no_script(&browser, "operation").await;
    browser.screenshot("operation").await.unwrap();

    // The waiting call: its exact arguments, digest and the planted reason as text.
    browser.open(&format!("{}/console/approvals", stack.base)).await.unwrap();
    let card = format!("#approval-{op_id}");
    let shown = browser.text(&card).await.unwrap();
    assert!(shown.contains("dev-operator") && shown.contains("\"orders\""), "{shown}");
    assert!(browser.text(&format!("{card} .requester-reason")).await.unwrap().contains(SCRIPT));
    assert_no_script(&browser, "approvals").await;
    browser.screenshot("approvals").await.unwrap();
    browser.fill(&format!("{card} .approve-reason"), "INC-7 is real").await.unwrap();
    browser.click(&format!("{card} button.approve")).await.unwrap();
    assert_eq!(browser.path().await.unwrap(), format!("/console/operations/{op_id}?notice=approved"));
    assert!(browser.text("#notice").await.unwrap().contains("approval is recorded"));
    // The operation's page: the requester's reason as text, the decision with its policy version,
    // the redacted inputs and the approval's trail.
    assert!(browser.text("#op-reason").await.unwrap().contains(SCRIPT));
    assert!(browser.text("#op-decision").await.unwrap().contains("policy version"));
    assert!(browser.text("#op-inputs").await.unwrap().contains("\"db_user\": \"ro\""));
    assert!(browser.text("#op-approval").await.unwrap().contains("role admin"));
    assert!(browser.text("#op-events").await.unwrap().contains("approval_requested"));
    assert_no_script(&browser, "approved operation").await;

    // The operator's call, waiting all along, got its lease.
    let started = waiting.await.unwrap();
    assert_eq!(started.is_error, Some(false), "{}", text_of(&started));
    let lease_id = started.structured_content.unwrap()["lease_id"].as_str().unwrap().to_owned();

    // Leases: the live one is listed; its page shows the logs tail; stop it with a reason.
    browser.open(&format!("{}/console/leases", stack.base)).await.unwrap();
    assert!(browser.text("#leases").await.unwrap().contains(&lease_id));
    browser.screenshot("leases").await.unwrap();
    browser.open(&format!("{}/console/leases/{lease_id}", stack.base)).await.unwrap();
    assert_eq!(browser.text("#lease-status").await.unwrap(), "active");
    assert!(browser.text("#lease-facts").await.unwrap().contains("db=orders"));
    browser.screenshot("lease").await.unwrap();
    browser.fill("#stop-reason", "done with INC-7").await.unwrap();
    browser.click("#stop").await.unwrap();
    assert_eq!(browser.path().await.unwrap(), format!("/console/leases/{lease_id}?notice=stopped"));
    assert_eq!(browser.text("#lease-status").await.unwrap(), "stopped");
    assert_eq!(browser.count("#stop").await.unwrap(), 0, "a stopped lease has no stop button");

    // Agents and the policy.
    browser.open(&format!("{}/console/agents", stack.base)).await.unwrap();
    assert!(browser.text("#workers").await.unwrap().contains("online"), "the stack's worker is listed online");
    browser.screenshot("agents").await.unwrap();
    browser.open(&format!("{}/console/policy", stack.base)).await.unwrap();
    let roles = browser.text("#roles").await.unwrap();
    assert!(roles.contains("readonly") && roles.contains("proxy.start"), "{roles}");
    browser.screenshot("policy").await.unwrap();

    // Each console action is an operation of the admin in the trail, like an MCP call.
    let actions: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT tool, status, reason FROM operations WHERE actor = 'dev-admin'
         AND tool IN ('approve_operation', 'stop_proxy') ORDER BY created_at",
    )
    .fetch_all(&stack.db.pool)
    .await
    .unwrap();
    assert_eq!(
        actions,
        [
            ("approve_operation".into(), "succeeded".into(), Some("INC-7 is real".into())),
            ("stop_proxy".into(), "succeeded".into(), Some("done with INC-7".into())),
        ]
    );

    // Signing out ends the session: the console asks to sign in again.
    browser.click("form.who button").await.unwrap();
    assert!(browser.path().await.unwrap().starts_with("/console/sign-in"));
    browser.open(&format!("{}/console/operations", stack.base)).await.unwrap();
    assert!(browser.path().await.unwrap().starts_with("/console/sign-in"));
    browser.close().await;
    stack.stop().await;
}
