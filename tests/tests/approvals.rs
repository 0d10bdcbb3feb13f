//! Two-person approval through real MCP clients and real processes: an operator's database proxy
//! waits for an admin; the approval is bound to the call's digest; the lease starts once approved,
//! once even when two admins approve at once; a denied or expired call never runs; a task-declaring
//! client gets a task that completes after approval; the webhook hears each step; the trail keeps
//! who decided, when and why.

mod reaper_support;
mod webhook_receiver;

use std::sync::Arc;
use std::time::Duration;

use mtcp_shared::config::ApiKeyEntry;
use mtcp_tests::client::text_of;
use mtcp_tests::{McpClient, Stack, StackOptions, Tweak};
use rmcp::model::{CallToolResult, ServerResult, TaskPayload, TaskStatus};
use serde_json::{Value, json};
use sha2::Digest;
use webhook_receiver::Receiver;

/// Operators' database and Kubernetes proxies and access reviews wait for an admin; an admin's
/// own Kubernetes proxy waits for another admin.
const POLICY: &str = r#"
roles:
  operator:
    grants: ["inventory.*", "security.*", "health.*", "audit.*", "access.*", "proxy.*"]
    constraints:
      require_approval:
        capabilities: ["proxy.start", "access.review"]
        kinds: [proxy_db, proxy_kube]
        approvers: { roles: [admin] }
        approvals: 1
        expires_after: 15m
  admin:
    grants: ["*"]
    constraints:
      require_approval:
        - capabilities: ["proxy.start"]
          kinds: [proxy_kube]
          approvers: { roles: [admin] }
"#;

struct Approvals {
    stack: Stack,
    /// A second admin's key (actor `second-admin`).
    second_admin: String,
    receiver: Receiver,
    argv_log: std::path::PathBuf,
}

async fn start(call_budget: Duration) -> Approvals {
    let (receiver, url) = Receiver::start(200, &[]).await;
    let dir = tempfile::tempdir().unwrap().keep();
    let policy = dir.join("policy.yaml");
    std::fs::write(&policy, POLICY).unwrap();
    let argv_log = dir.join("argv.jsonl");
    let second_admin = mtcp_cli::dev::new_api_key();
    let key = second_admin.clone();
    let tweak: Tweak = Arc::new(move |c| {
        c.policy.path = Some(policy.clone());
        c.approvals.webhook = Some(serde_yaml::from_str(&format!("url: {url}")).unwrap());
        c.auth.api_keys.push(ApiKeyEntry {
            actor: "second-admin".into(),
            role: Some("admin".into()),
            sha256: hex::encode(sha2::Sha256::digest(key.as_bytes())),
            kind: Default::default(),
        });
    });
    let sim_env = [("TELEPORT_SIM_ARGV_LOG".to_owned(), argv_log.display().to_string())].into();
    let stack =
        Stack::start(StackOptions { tweak: Some(tweak), sim_env, call_budget, ..Default::default() }).await.unwrap();
    Approvals { stack, second_admin, receiver, argv_log }
}

impl Approvals {
    async fn second_admin(&self) -> McpClient {
        McpClient::connect(&self.stack.url, Some(&self.second_admin)).await.unwrap()
    }

    /// Replace the policy file and reload it (what SIGHUP does).
    fn reload_policy(&self, yaml: &str) {
        std::fs::write(self.stack.config.policy.path.as_ref().unwrap(), yaml).unwrap();
        self.stack.reloader.reload().unwrap();
    }

    /// `tsh proxy …` runs the simulator saw.
    fn proxy_runs(&self) -> usize {
        let log = std::fs::read_to_string(&self.argv_log).unwrap_or_default();
        log.lines().filter(|l| l.contains("\"proxy\"")).count()
    }

    /// The op id of the newest call of `tool` awaiting approval, once there is one.
    async fn waiting(&self, tool: &str) -> String {
        for _ in 0..200 {
            let id: Option<uuid::Uuid> = sqlx::query_scalar(
                "SELECT op_id FROM operations WHERE tool = $1 AND status = 'awaiting_approval'
                 ORDER BY created_at DESC LIMIT 1",
            )
            .bind(tool)
            .fetch_optional(&self.stack.db.pool)
            .await
            .unwrap();
            if let Some(id) = id {
                return id.to_string();
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("no {tool} call awaits approval");
    }

    async fn status(&self, op_id: &str) -> String {
        sqlx::query_scalar("SELECT status FROM operations WHERE op_id = $1::uuid")
            .bind(op_id)
            .fetch_one(&self.stack.db.pool)
            .await
            .unwrap()
    }

    async fn leases_of(&self, op_id: &str) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM leases WHERE op_id = $1::uuid")
            .bind(op_id)
            .fetch_one(&self.stack.db.pool)
            .await
            .unwrap()
    }
}

fn db_proxy() -> Value {
    json!({ "kind": "proxy_db", "target": { "db": "orders", "db_user": "ro" }, "reason": "debug INC-7", "ttl_seconds": 300 })
}

fn meta(r: &CallToolResult, key: &str) -> Option<String> {
    r.meta.as_ref()?.0.get(key)?.as_str().map(str::to_owned)
}

/// The waiting call as `client` lists it.
async fn listed(client: &McpClient, op_id: &str) -> Value {
    let list = client.call("list_pending_approvals", json!({})).await.unwrap();
    assert_eq!(list.is_error, Some(false), "{}", text_of(&list));
    let list = list.structured_content.unwrap();
    list["approvals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["op_id"] == op_id)
        .cloned()
        .unwrap_or_else(|| panic!("{list}"))
}

#[tokio::test]
async fn an_operators_database_proxy_waits_for_an_admin_and_starts_once_approved() {
    let mut a = start(Duration::from_secs(30)).await;
    let operator = a.stack.client("operator").await.unwrap();
    let (admin, checker) = (a.stack.client("admin").await.unwrap(), a.stack.client("operator").await.unwrap());

    // check_policy says so before anything runs.
    let check = checker.call("check_policy", json!({ "tool": "start_proxy", "arguments": db_proxy() })).await.unwrap();
    let check = check.structured_content.unwrap();
    assert_eq!(check["allow"], true, "{check}");
    assert!(check["reason"].as_str().unwrap().contains("after approval: 1 approval by role admin"), "{check}");

    let call = tokio::spawn(async move { operator.call_with_progress("start_proxy", db_proxy()).await.unwrap() });
    let op_id = a.waiting("start_proxy").await;
    // People take a while: past the waiter's 2 s status re-read, the call still waits.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(!call.is_finished(), "a waiting call is not answered before its approval");
    assert_eq!(a.proxy_runs(), 0, "nothing runs before approval");

    // The operator can neither see the queue nor approve (its own call, at that).
    let denied = checker.call("list_pending_approvals", json!({})).await.unwrap();
    assert!(text_of(&denied).contains("denied by policy"), "{}", text_of(&denied));
    let own = checker
        .call("approve_operation", json!({ "op_id": op_id, "args_sha256": "0".repeat(64), "reason": "me" }))
        .await
        .unwrap();
    assert!(text_of(&own).contains("'approval.review' is not granted"), "{}", text_of(&own));

    // The admin sees the call, its redacted arguments and digest, and may decide it.
    let pending = listed(&admin, &op_id).await;
    assert_eq!((pending["actor"].as_str(), pending["you_may_decide"].as_bool()), (Some("dev-operator"), Some(true)));
    assert_eq!(pending["arguments"]["target"]["db"], "orders", "{pending}");
    let digest = pending["approval"]["args_sha256"].as_str().unwrap().to_owned();
    let wrong = format!("{}0", &digest[..63]);
    let refused = admin
        .call("approve_operation", json!({ "op_id": op_id, "args_sha256": wrong, "reason": "looks fine" }))
        .await
        .unwrap();
    assert_eq!(refused.is_error, Some(true));
    assert!(text_of(&refused).contains("does not match"), "{}", text_of(&refused));
    assert_eq!(a.status(&op_id).await, "awaiting_approval", "a refused approval changes nothing");

    let approved = admin
        .call("approve_operation", json!({ "op_id": op_id, "args_sha256": digest, "reason": "INC-7 is real" }))
        .await
        .unwrap();
    assert_eq!(approved.is_error, Some(false), "{}", text_of(&approved));
    assert_eq!(approved.structured_content.unwrap()["status"], "queued");

    // The operator's call, waiting all along, gets its lease; it heard why it waited.
    let (result, progress) = call.await.unwrap();
    assert_eq!(result.is_error, Some(false), "{}", text_of(&result));
    assert_eq!(meta(&result, "mtcp/op_id").as_deref(), Some(op_id.as_str()));
    let lease = result.structured_content.unwrap();
    assert_eq!(lease["status"], "active", "{lease}");
    assert!(lease["expires_in_seconds"].as_i64().unwrap() > 290, "the TTL counts from the approval: {lease}");
    let messages: Vec<_> = progress.iter().filter_map(|p| p.message.clone()).collect();
    assert!(messages.iter().any(|m| m.contains("awaiting approval by role admin")), "{messages:?}");
    assert_eq!(a.proxy_runs(), 1);

    // get_operation shows who approved, when and why; the trail has each step.
    let op = admin.call("get_operation", json!({ "op_id": op_id })).await.unwrap().structured_content.unwrap();
    assert_eq!(op["status"], "succeeded", "{op}");
    let decisions = op["approval"]["decisions"].as_array().unwrap();
    assert_eq!(decisions.len(), 1, "{op}");
    assert_eq!(
        (decisions[0]["approver"].as_str(), decisions[0]["reason"].as_str()),
        (Some("dev-admin"), Some("INC-7 is real"))
    );
    assert_eq!(op["approval"]["args_sha256"], digest.as_str());
    let steps: Vec<String> = sqlx::query_scalar(
        "SELECT payload->>'event' FROM operation_events WHERE op_id = $1::uuid AND kind = 'state' ORDER BY seq",
    )
    .bind(&op_id)
    .fetch_all(&a.stack.db.pool)
    .await
    .unwrap();
    assert_eq!(steps, ["approval_requested", "approved"]);

    // The webhook heard the request (with where and how to decide) and the decision.
    let asked = a.receiver.wait_for("approval.requested", &op_id).await;
    assert_eq!((asked["actor"].as_str(), asked["tool"].as_str()), (Some("dev-operator"), Some("start_proxy")));
    assert_eq!(asked["args_sha256"], digest.as_str());
    assert!(asked["text"].as_str().unwrap().contains("Approval needed"), "{asked}");
    let decided = a.receiver.wait_for("approval.approved", &op_id).await;
    assert_eq!(decided["decision"]["by"], "dev-admin", "{decided}");
    a.stack.stop().await;
}

#[tokio::test]
async fn a_task_client_gets_a_task_that_completes_after_approval_and_two_approvals_start_one_lease() {
    let mut a = start(Duration::from_secs(30)).await;
    let operator = McpClient::connect_with_tasks(&a.stack.url, Some(a.stack.key("operator"))).await.unwrap();
    let created = match operator.call_raw("start_proxy", db_proxy()).await.unwrap() {
        ServerResult::CreateTaskResult(t) => t,
        other => panic!("expected a task, got {other:?}"),
    };
    assert_eq!(created.task.status, TaskStatus::Working);
    let message = created.task.status_message.clone().unwrap_or_default();
    assert!(message.contains("awaiting approval by role admin"), "{message}");
    let op_id = created.task.task_id.clone();
    let polled = operator.get_task(&op_id).await.unwrap();
    assert_eq!(polled.task.task.status, TaskStatus::Working);

    // Two admins approve at the same moment: one approval queues the call, the other finds it gone.
    let (first, second) = (a.stack.client("admin").await.unwrap(), a.second_admin().await);
    let digest = listed(&first, &op_id).await["approval"]["args_sha256"].as_str().unwrap().to_owned();
    let approve = |c: McpClient, reason: &'static str| {
        let (op_id, digest) = (op_id.clone(), digest.clone());
        tokio::spawn(async move {
            c.call("approve_operation", json!({ "op_id": op_id, "args_sha256": digest, "reason": reason }))
                .await
                .unwrap()
        })
    };
    let (x, y) = (approve(first, "first"), approve(second, "second"));
    let (x, y) = (x.await.unwrap(), y.await.unwrap());
    let ok = [&x, &y].iter().filter(|r| r.is_error == Some(false)).count();
    assert_eq!(ok, 1, "exactly one approval queued it: {} / {}", text_of(&x), text_of(&y));
    let loser = if x.is_error == Some(true) { &x } else { &y };
    assert!(text_of(loser).contains("no longer awaits approval"), "{}", text_of(loser));

    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let done = loop {
        let t = operator.get_task(&op_id).await.unwrap();
        if t.task.task.status.is_terminal() || std::time::Instant::now() > deadline {
            break t;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let TaskPayload::Completed { result } = &done.task.payload else { panic!("not completed: {done:?}") };
    assert_eq!(result["isError"], false, "{result:?}");
    assert_eq!(result["structuredContent"]["status"], "active", "{result:?}");
    assert_eq!(a.leases_of(&op_id).await, 1);
    assert_eq!(a.proxy_runs(), 1);
    a.stack.stop().await;
}

#[tokio::test]
async fn a_denied_call_and_an_expired_one_never_run_and_nobody_approves_their_own() {
    let mut a = start(Duration::from_secs(30)).await;
    // An admin's Kubernetes proxy waits for another admin.
    let admin = a.stack.client("admin").await.unwrap();
    let kube = json!({ "kind": "proxy_kube", "target": { "kube_cluster": "prod-eks" }, "reason": "look at pods" });
    let call = tokio::spawn(async move { admin.call("start_proxy", kube).await.unwrap() });
    let kube_op = a.waiting("start_proxy").await;
    let same = a.stack.client("admin").await.unwrap();
    let digest = listed(&same, &kube_op).await["approval"]["args_sha256"].as_str().unwrap().to_owned();
    assert!(listed(&same, &kube_op).await["why_not"].as_str().unwrap().contains("you made this call"));
    let own = same
        .call("approve_operation", json!({ "op_id": kube_op, "args_sha256": digest, "reason": "mine" }))
        .await
        .unwrap();
    assert!(text_of(&own).contains("nobody approves their own call"), "{}", text_of(&own));

    let other = a.second_admin().await;
    let denied =
        other.call("deny_operation", json!({ "op_id": kube_op, "reason": "not during the freeze" })).await.unwrap();
    assert_eq!(denied.is_error, Some(false), "{}", text_of(&denied));
    let answer = call.await.unwrap();
    assert_eq!(answer.is_error, Some(true));
    assert!(text_of(&answer).contains("denied by second-admin: not during the freeze"), "{}", text_of(&answer));
    assert_eq!(a.status(&kube_op).await, "denied");
    a.receiver.wait_for("approval.denied", &kube_op).await;

    // An operator's call nobody decides: the reaper ends it `expired` once its 15 minutes pass.
    let operator = a.stack.client("operator").await.unwrap();
    let waiting = tokio::spawn(async move { operator.call("start_proxy", db_proxy()).await.unwrap() });
    let db_op = a.waiting("start_proxy").await;
    let later = chrono::Utc::now() + chrono::Duration::minutes(16);
    let reaper = reaper_support::reaper(&a.stack.db.pool).with_approvals(a.stack.config.approvals.clone());
    let report = reaper.run_once(later).await.unwrap();
    assert_eq!(report.approvals_expired, 1);
    assert_eq!(a.status(&db_op).await, "expired");
    let answer = waiting.await.unwrap();
    assert!(text_of(&answer).contains("nobody approved it in time"), "{}", text_of(&answer));
    let late = a.second_admin().await;
    let digest = "0".repeat(64);
    let too_late =
        late.call("approve_operation", json!({ "op_id": db_op, "args_sha256": digest, "reason": "x" })).await;
    assert!(text_of(&too_late.unwrap()).contains("no longer awaits approval: it is expired"));

    // Neither ran: no lease, no `tsh proxy`.
    assert_eq!((a.leases_of(&kube_op).await, a.leases_of(&db_op).await), (0, 0));
    assert_eq!(a.proxy_runs(), 0);
    let steps: Vec<String> = sqlx::query_scalar(
        "SELECT payload->>'event' FROM operation_events WHERE op_id = $1::uuid AND kind = 'state' ORDER BY seq",
    )
    .bind(&db_op)
    .fetch_all(&a.stack.db.pool)
    .await
    .unwrap();
    assert_eq!(steps, ["approval_requested", "expired"]);
    a.receiver.wait_for("approval.expired", &db_op).await;
    a.stack.stop().await;
}

#[tokio::test]
async fn the_cli_lists_approves_and_refuses_with_the_same_checks() {
    let mut a = start(Duration::from_secs(30)).await;
    let operator = a.stack.client("operator").await.unwrap();
    let call = tokio::spawn(async move { operator.call("start_proxy", db_proxy()).await.unwrap() });
    let op_id = a.waiting("start_proxy").await;
    // The CLI reads the same configuration (the webhook's URL is a secret a dump does not carry).
    let mut config = a.stack.config.clone();
    config.approvals.webhook = None;
    let path = a.stack.dir.path().join("cli.yaml");
    std::fs::write(&path, serde_yaml::to_string(&config).unwrap()).unwrap();
    let mtcp = |args: &[&str]| {
        let out = std::process::Command::new(mtcp_tests::process::binary("mtcp"))
            .arg("approvals")
            .args(args)
            .arg("--config")
            .arg(&path)
            .env("DATABASE_URL", &a.stack.db.url)
            .output()
            .unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        (out.status.success(), text)
    };

    let (ok, listed) = mtcp(&["ls", "--actor", "dev-admin"]);
    assert!(ok && listed.contains(&op_id) && listed.contains("may decide"), "{listed}");
    let digest = listed.lines().find_map(|l| l.trim().strip_prefix("sha256:")).unwrap().trim().to_owned();

    let (ok, out) = mtcp(&["approve", &op_id, "--sha256", &digest, "--reason", "mine", "--actor", "dev-operator"]);
    assert!(!ok && out.contains("may not decide approvals"), "{out}");
    let wrong = "f".repeat(64);
    let (ok, out) = mtcp(&["approve", &op_id, "--sha256", &wrong, "--reason", "ok", "--actor", "dev-admin"]);
    assert!(!ok && out.contains("does not match"), "{out}");
    let (ok, out) =
        mtcp(&["approve", &op_id, "--sha256", &digest, "--reason", "from the terminal", "--actor", "dev-admin"]);
    assert!(ok && out.contains("queued"), "{out}");

    let lease = call.await.unwrap();
    assert_eq!(lease.structured_content.unwrap()["status"], "active");
    let via: String = sqlx::query_scalar("SELECT via FROM approvals WHERE op_id = $1::uuid")
        .bind(&op_id)
        .fetch_one(&a.stack.db.pool)
        .await
        .unwrap();
    assert_eq!(via, "cli");
    a.stack.stop().await;
}

#[tokio::test]
async fn a_call_the_reloaded_policy_no_longer_allows_is_not_run_by_its_approval() {
    let mut a = start(Duration::from_secs(30)).await;
    let operator = a.stack.client("operator").await.unwrap();
    let call = tokio::spawn(async move { operator.call("start_proxy", db_proxy()).await.unwrap() });
    let op_id = a.waiting("start_proxy").await;
    // While it waits, operators lose `proxy.*`.
    a.reload_policy(&POLICY.replace(r#""access.*", "proxy.*"]"#, r#""access.*"]"#));
    let admin = a.stack.client("admin").await.unwrap();
    let digest = listed(&admin, &op_id).await["approval"]["args_sha256"].as_str().unwrap().to_owned();
    let approved = admin
        .call("approve_operation", json!({ "op_id": op_id, "args_sha256": digest, "reason": "ok" }))
        .await
        .unwrap();
    let decision = approved.structured_content.unwrap();
    assert_eq!(decision["status"], "denied", "{decision}");
    assert!(decision["message"].as_str().unwrap().contains("no longer allows it"), "{decision}");
    let answer = call.await.unwrap();
    assert!(text_of(&answer).contains("'proxy.start' is not granted to role 'operator'"), "{}", text_of(&answer));
    assert_eq!((a.leases_of(&op_id).await, a.proxy_runs()), (0, 0));
    a.stack.stop().await;
}
