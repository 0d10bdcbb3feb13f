//! Identical concurrent reads share one run: every caller gets its own operation, decision and
//! answer, while the auth server is asked once. A caller's cancellation is not an answer for the
//! others, and a follower nobody waits for any more still ends.

mod reaper_support;

use std::sync::Arc;
use std::time::Duration;

use mtcp_shared::db::{self, operations::Outcome, queue::Lane};
use mtcp_shared::domain::{OpId, OperationStatus};
use mtcp_tests::client::text_of;
use mtcp_tests::{McpClient, Stack, StackOptions, TestDb, Tweak};
use rmcp::model::CallToolResult;
use serde_json::json;

/// How long the simulator takes to answer `tctl get nodes` (and only that).
const SLOW_MS: &str = "1200";
const CALLERS: usize = 6;

fn meta(r: &CallToolResult, key: &str) -> Option<String> {
    r.meta.as_ref()?.0.get(key)?.as_str().map(str::to_owned)
}

/// `tctl get nodes` runs recorded by the simulator.
fn node_runs(argv_log: &std::path::Path) -> usize {
    std::fs::read_to_string(argv_log).unwrap_or_default().lines().filter(|l| l.contains("\"nodes\"")).count()
}

async fn slow_stack(argv_log: &std::path::Path, coalesce: bool) -> Stack {
    let tweak: Tweak = Arc::new(move |c| c.coalescing.enabled = coalesce);
    let sim_env = [
        ("TELEPORT_SIM_DELAY_MS".to_owned(), SLOW_MS.to_owned()),
        ("TELEPORT_SIM_FAIL_ON".to_owned(), "get nodes".to_owned()),
        ("TELEPORT_SIM_ARGV_LOG".to_owned(), argv_log.display().to_string()),
    ]
    .into();
    Stack::start(StackOptions { tweak: Some(tweak), sim_env, worker_concurrency: 8, ..Default::default() })
        .await
        .unwrap()
}

/// `CALLERS` concurrent `list_nodes`, alternating admin and readonly callers.
async fn burst(stack: &Stack) -> Vec<CallToolResult> {
    let mut clients = Vec::new();
    for i in 0..CALLERS {
        clients.push(stack.client(if i % 2 == 0 { "admin" } else { "readonly" }).await.unwrap());
    }
    let calls = clients.into_iter().map(|c: McpClient| {
        tokio::spawn(async move {
            let r = c.call("list_nodes", json!({})).await.unwrap();
            c.close().await;
            r
        })
    });
    let mut results = Vec::new();
    for call in calls.collect::<Vec<_>>() {
        results.push(call.await.unwrap());
    }
    results
}

#[tokio::test]
async fn identical_reads_share_one_run_and_each_caller_keeps_its_own_record() {
    let dir = tempfile::tempdir().unwrap();
    let argv_log = dir.path().join("argv.jsonl");
    let mut stack = slow_stack(&argv_log, true).await;
    let results = burst(&stack).await;
    for r in &results {
        assert_eq!(r.is_error, Some(false), "{}", text_of(r));
    }
    assert_eq!(node_runs(&argv_log), 1, "the auth server was asked once for {CALLERS} identical reads");

    // One answer, stamped with when it was produced, shared by every caller.
    let first = results[0].structured_content.clone().unwrap();
    assert!(results.iter().all(|r| r.structured_content.as_ref() == Some(&first)));
    let as_of: Vec<_> = results.iter().map(|r| meta(r, "mtcp/as_of").expect("every answer says when")).collect();
    assert!(as_of.iter().all(|a| *a == as_of[0]), "{as_of:?}");
    let led: Vec<_> = results.iter().filter(|r| meta(r, "mtcp/coalesced_into").is_none()).collect();
    assert_eq!(led.len(), 1, "one caller's call ran; the others joined it");
    let leader = meta(led[0], "mtcp/op_id").unwrap();

    // Each caller has its own operation: its actor, its decision, the run it joined.
    let rows: Vec<(String, String, Option<uuid::Uuid>, serde_json::Value)> = sqlx::query_as(
        "SELECT actor, status, coalesced_into, runs FROM operations WHERE tool = 'list_nodes' ORDER BY created_at",
    )
    .fetch_all(&stack.db.pool)
    .await
    .unwrap();
    assert_eq!(rows.len(), CALLERS);
    assert!(rows.iter().all(|(_, status, _, _)| status == "succeeded"));
    let followers: Vec<_> = rows.iter().filter(|r| r.2.is_some()).collect();
    assert_eq!(followers.len(), CALLERS - 1);
    assert!(followers.iter().all(|r| r.2.unwrap().to_string() == leader && r.3 == json!([])), "{followers:?}");
    let actors: std::collections::BTreeSet<_> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(actors.len(), 2, "admin's and readonly's calls share a run: {actors:?}");

    // get_operation of a follower shows the answer and where it came from.
    let follower_id = meta(results.iter().find(|r| meta(r, "mtcp/coalesced_into").is_some()).unwrap(), "mtcp/op_id");
    let admin = stack.client("admin").await.unwrap();
    let op = admin.call("get_operation", json!({ "op_id": follower_id })).await.unwrap();
    let view = op.structured_content.unwrap();
    assert_eq!(view["coalesced_into"], json!(leader), "{view}");
    assert_eq!(view["result"], first);
    stack.stop().await;
}

#[tokio::test]
async fn switched_off_every_read_runs() {
    let dir = tempfile::tempdir().unwrap();
    let argv_log = dir.path().join("argv.jsonl");
    let mut stack = slow_stack(&argv_log, false).await;
    let results = burst(&stack).await;
    assert!(results.iter().all(|r| r.is_error == Some(false) && meta(r, "mtcp/coalesced_into").is_none()));
    assert_eq!(node_runs(&argv_log), CALLERS);
    stack.stop().await;
}

#[tokio::test]
async fn a_cancelled_run_is_not_an_answer_for_the_calls_that_joined_it() {
    let dir = tempfile::tempdir().unwrap();
    let argv_log = dir.path().join("argv.jsonl");
    let mut stack = slow_stack(&argv_log, true).await;
    let (first, second) = (stack.client("admin").await.unwrap(), stack.client("readonly").await.unwrap());
    let leader = tokio::spawn(async move { first.call("list_nodes", json!({})).await.unwrap() });
    let pool = stack.db.pool.clone();
    let leader_id =
        wait_for(&pool, "SELECT op_id FROM operations WHERE status = 'running' AND tool = 'list_nodes'").await;
    let follower = tokio::spawn(async move { second.call("list_nodes", json!({})).await.unwrap() });
    wait_for(&pool, "SELECT op_id FROM operations WHERE coalesced_into IS NOT NULL").await;
    // Its process has started: a cancel that came before the spawn would leave nothing to run
    // twice, and the count below would be 1 for a reason this test is not about.
    for _ in 0..200 {
        if node_runs(&argv_log) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(node_runs(&argv_log), 1, "the leader's run started");
    // The leader's caller goes away (the same request a closed stream makes).
    db::cancel::request(&pool, OpId(leader_id)).await.unwrap();

    let r = follower.await.unwrap();
    assert_eq!(r.is_error, Some(false), "the follower ran on its own: {}", text_of(&r));
    assert!(meta(&r, "mtcp/coalesced_into").is_none(), "its answer is its own run's");
    let l = leader.await.unwrap();
    assert_eq!(l.is_error, Some(true), "{}", text_of(&l));
    assert!(text_of(&l).contains("cancelled"), "{}", text_of(&l));
    assert_eq!(node_runs(&argv_log), 2);
    stack.stop().await;
}

/// A run that found no nodes.
fn no_nodes() -> Outcome {
    Outcome {
        status: OperationStatus::Succeeded,
        result: Some(json!({ "nodes": [] })),
        error: None,
        ..Outcome::failed("")
    }
}

/// Poll until `sql` (one uuid column) finds a row.
async fn wait_for(pool: &sqlx::PgPool, sql: &'static str) -> uuid::Uuid {
    for _ in 0..200 {
        if let Some(id) = sqlx::query_scalar(sql).fetch_optional(pool).await.unwrap() {
            return id;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("nothing matched {sql}");
}

#[tokio::test]
async fn a_follower_whose_gateway_went_away_is_settled_by_the_reaper() {
    let db = TestDb::new().await.unwrap();
    let key = "k".repeat(64);
    let actor = mtcp_tests::queue::readonly("agent");
    let leader = mtcp_tests::queue::list_nodes_keyed(&db.pool, &actor, Some(&key)).await.unwrap();
    let follower = mtcp_tests::queue::list_nodes_keyed(&db.pool, &actor, Some(&key)).await.unwrap();
    let claimed = db::queue::claim(&db.pool, Lane::Tools, "w1", &db::queue::Serving::legacy()).await.unwrap().unwrap();
    assert_eq!(claimed.op_id, leader, "the follower is never claimed");
    assert!(!claimed.more, "nothing else is claimable");
    assert!(db::operations::finish(&db.pool, leader, "w1", &no_nodes(), &[]).await.unwrap());

    let report = reaper_support::reaper(&db.pool).run_once(chrono::Utc::now()).await.unwrap();
    assert_eq!(report.followers_settled, 1);
    let row = db::operations::get(&db.pool, follower).await.unwrap().unwrap();
    assert_eq!(row.status(), OperationStatus::Succeeded);
    assert_eq!(row.result, Some(json!({ "nodes": [] })));
    assert_eq!(row.coalesced_into, Some(leader.0));
    assert!(row.as_of.is_some());
}

#[tokio::test]
async fn a_run_whose_worker_went_offline_runs_again_for_the_calls_that_joined_it() {
    let db = TestDb::new().await.unwrap();
    let key = "k".repeat(64);
    let actor = mtcp_tests::queue::readonly("agent");
    let leader = mtcp_tests::queue::list_nodes_keyed(&db.pool, &actor, Some(&key)).await.unwrap();
    let follower = mtcp_tests::queue::list_nodes_keyed(&db.pool, &actor, Some(&key)).await.unwrap();
    let lost = reaper_support::agent(&db.pool, "offline").await;
    let claimed = db::queue::claim(&db.pool, Lane::Tools, &lost.to_string(), &db::queue::Serving::legacy())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.op_id, leader);

    // The reaper puts the read back in the queue; its follower keeps waiting for it.
    let report = reaper_support::reaper(&db.pool).run_once(chrono::Utc::now()).await.unwrap();
    assert_eq!((report.jobs_requeued, report.followers_settled), (1, 0));
    assert!(db::operations::settle_follower(&db.pool, follower).await.unwrap().is_none());
    // An identical call arriving now joins the queued run too.
    let late = mtcp_tests::queue::list_nodes_keyed(&db.pool, &actor, Some(&key)).await.unwrap();
    assert_eq!(db::operations::get(&db.pool, late).await.unwrap().unwrap().coalesced_into, Some(leader.0));

    let again = db::queue::claim(&db.pool, Lane::Tools, "w2", &db::queue::Serving::legacy()).await.unwrap().unwrap();
    assert_eq!((again.op_id, again.attempt), (leader, 2));
    assert!(db::operations::finish(&db.pool, leader, "w2", &no_nodes(), &[]).await.unwrap());
    for id in [follower, late] {
        let row = db::operations::settle_follower(&db.pool, id).await.unwrap().expect("settled");
        assert_eq!((row.status(), row.result), (OperationStatus::Succeeded, Some(json!({ "nodes": [] }))));
    }
}
