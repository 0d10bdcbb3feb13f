//! The per-actor in-flight cap (issue 14 item 6): with slow Teleport calls, one readonly caller's
//! flood of `list_nodes` used to fill every worker, so admin's `list_users` waited behind it. Now
//! an actor may have only its role's number of calls queued or running; the rest are refused at
//! enqueue, counted race-free under an advisory lock on the actor.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mtcp_shared::db::{self, in_flight::Admission};
use mtcp_tests::client::text_of;
use mtcp_tests::{Stack, StackOptions, TestDb, Tweak};
use serde_json::json;

/// The cap of role readonly in the test's policy file (the built-in readonly gets 4 by default).
const CAP: usize = 3;
/// How long the simulator takes to answer `tctl get nodes` (and only that).
const SLOW: Duration = Duration::from_secs(4);

async fn slow_stack() -> Stack {
    let dir = tempfile::tempdir().unwrap().keep();
    let policy = dir.join("policy.yaml");
    std::fs::write(
        &policy,
        format!(
            "roles:\n  readonly:\n    grants: ['inventory.*', 'security.rbac_scan', 'health.*', 'audit.*']\n    \
             constraints: {{ max_in_flight_calls: {CAP} }}\n"
        ),
    )
    .unwrap();
    let tweak: Tweak = Arc::new(move |c| c.policy.path = Some(policy.clone()));
    let sim_env = [
        ("TELEPORT_SIM_DELAY_MS".to_owned(), SLOW.as_millis().to_string()),
        ("TELEPORT_SIM_FAIL_ON".to_owned(), "get nodes".to_owned()),
    ]
    .into();
    Stack::start(StackOptions { tweak: Some(tweak), sim_env, worker_concurrency: 8, ..Default::default() })
        .await
        .unwrap()
}

#[tokio::test]
async fn a_flood_from_one_actor_is_capped_and_does_not_starve_another() {
    let mut stack = slow_stack().await;
    let readonly = Arc::new(stack.client("readonly").await.unwrap());
    let admin = stack.client("admin").await.unwrap();

    let flood: Vec<_> = (0..CAP + 10)
        .map(|_| {
            let readonly = readonly.clone();
            tokio::spawn(async move { readonly.call("list_nodes", json!({})).await.unwrap() })
        })
        .collect();
    // Let the flood reach the queue, then time admin's call while readonly's are in flight.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    let users = admin.call("list_users", json!({})).await.unwrap();
    let admin_took = started.elapsed();
    assert_eq!(users.is_error, Some(false), "{}", text_of(&users));
    eprintln!("admin's list_users under the readonly flood took {admin_took:?}");
    assert!(admin_took < SLOW / 2, "admin waited {admin_took:?} behind readonly's calls");

    let (mut accepted, mut refused) = (0, Vec::new());
    for call in flood {
        let result = call.await.unwrap();
        match result.is_error {
            Some(false) => accepted += 1,
            _ => refused.push(text_of(&result)),
        }
    }
    assert_eq!((accepted, refused.len()), (CAP, 10), "{refused:#?}");
    for text in &refused {
        assert!(
            text.contains(&format!("has {CAP} calls in flight"))
                && text.contains(&format!("the limit for role 'readonly' is {CAP}"))
                && text.contains("retry when one finishes"),
            "{text}"
        );
    }
    let denied: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM operations WHERE actor = 'dev-readonly' AND status = 'denied'
         AND decision->>'reason' LIKE '%calls in flight%'",
    )
    .fetch_one(&stack.db.pool)
    .await
    .unwrap();
    assert_eq!(denied, 10, "every refusal is recorded as a denial");

    // Once the slow calls finished, readonly calls again.
    let again = readonly.call("list_nodes", json!({})).await.unwrap();
    assert_eq!(again.is_error, Some(false), "{}", text_of(&again));
    admin.close().await;
    stack.stop().await;
}

/// Concurrent enqueues of one actor never exceed the cap: the count and the insert are serialised
/// by the lock even when each transaction dawdles between them (as a slow replica would).
#[tokio::test]
async fn concurrent_enqueues_never_exceed_the_cap() {
    let db = TestDb::new().await.unwrap();
    let actor = mtcp_tests::queue::readonly("flood");
    let tries: Vec<_> = (0..30)
        .map(|_| {
            let (pool, actor) = (db.pool.clone(), actor.clone());
            tokio::spawn(async move {
                let mut tx = pool.begin().await.unwrap();
                if let Admission::CapReached { .. } = db::in_flight::admit(&mut tx, &actor.id, 3).await.unwrap() {
                    return false;
                }
                sqlx::query("SELECT pg_sleep(0.05)").execute(&mut *tx).await.unwrap();
                mtcp_tests::queue::list_nodes(&mut *tx, &actor).await.unwrap();
                tx.commit().await.unwrap();
                true
            })
        })
        .collect();
    let mut admitted = 0;
    for t in tries {
        admitted += usize::from(t.await.unwrap());
    }
    let mut conn = db.pool.acquire().await.unwrap();
    let queued = db::in_flight::count(&mut conn, "flood").await.unwrap();
    assert_eq!((admitted, queued), (3, 3));
    // Another actor is not affected.
    let other = db::in_flight::admit(&mut conn, "someone-else", 3).await.unwrap();
    assert_eq!(other, Admission::Admitted);
}

/// A call the workers run takes its allowance in the statement that queues it: over the limit, it
/// is refused with when to retry, recorded as a denial, and never queued or run.
#[tokio::test]
async fn a_worker_call_over_the_rate_limit_is_refused_at_enqueue_and_recorded() {
    let tweak: Tweak = Arc::new(|c| c.policy.rate_limit_per_minute = 3);
    let mut stack = Stack::start(StackOptions { tweak: Some(tweak), ..Default::default() }).await.unwrap();
    let client = stack.client("readonly").await.unwrap();
    let mut refusals = Vec::new();
    for _ in 0..5 {
        let r = client.call("list_nodes", json!({})).await.unwrap();
        if r.is_error == Some(true) {
            refusals.push(text_of(&r));
        }
    }
    assert_eq!(refusals.len(), 2, "3 calls per minute: {refusals:?}");
    assert!(refusals.iter().all(|t| t.contains("rate limit of role 'readonly'") && t.contains("retry after")));
    let rows: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT status, lane FROM operations WHERE tool = 'list_nodes' ORDER BY created_at")
            .fetch_all(&stack.db.pool)
            .await
            .unwrap();
    let denied: Vec<_> = rows.iter().filter(|r| r.0 == "denied").collect();
    assert_eq!((rows.len(), denied.len()), (5, 2), "{rows:?}");
    assert!(denied.iter().all(|r| r.1.is_none()), "a refused call was never queued: {rows:?}");
    stack.stop().await;
}
