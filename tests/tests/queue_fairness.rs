//! Claiming is fair across actors: one actor's burst of slow calls waits behind its own calls, not
//! in front of everyone else's. Under a plain oldest-first queue, 40 slow calls on two slots made
//! another actor's quick call wait for twenty of them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mtcp_shared::db::{self, queue::Lane};
use mtcp_shared::domain::OpId;
use mtcp_tests::client::text_of;
use mtcp_tests::{Stack, StackOptions, TestDb, Tweak};
use serde_json::json;

/// How long the simulator takes to answer `tctl get nodes` (and only that).
const SLOW: Duration = Duration::from_millis(1500);
const BURST: usize = 40;

async fn enqueue(pool: &sqlx::PgPool, actor: &str) -> OpId {
    mtcp_tests::queue::list_nodes(pool, &mtcp_tests::queue::readonly(actor)).await.unwrap()
}

#[tokio::test]
async fn a_claim_takes_the_actor_with_the_smallest_share_first() {
    let db = TestDb::new().await.unwrap();
    let mut burst = Vec::new();
    for _ in 0..BURST {
        burst.push(enqueue(&db.pool, "flood").await);
    }
    let quick = enqueue(&db.pool, "other").await;
    let first = db::queue::claim(&db.pool, Lane::Tools, "w1", &db::queue::Serving::legacy()).await.unwrap().unwrap();
    assert_eq!(first.op_id, burst[0], "oldest first while shares are equal");
    let second = db::queue::claim(&db.pool, Lane::Tools, "w2", &db::queue::Serving::legacy()).await.unwrap().unwrap();
    assert_eq!(second.op_id, quick, "the other actor's call goes before the flood's second");
    let third = db::queue::claim(&db.pool, Lane::Tools, "w1", &db::queue::Serving::legacy()).await.unwrap().unwrap();
    assert_eq!(third.op_id, burst[1], "then the flood again, in its own order");
    // Leases are another lane: nothing of the tools lane is claimable there.
    assert!(db::queue::claim(&db.pool, Lane::Leases, "w1", &db::queue::Serving::legacy()).await.unwrap().is_none());
}

#[tokio::test]
async fn another_actors_quick_call_runs_within_one_slow_call_of_a_burst() {
    let dir = tempfile::tempdir().unwrap().keep();
    let policy = dir.join("policy.yaml");
    // No in-flight cap in the way: the whole burst is queued.
    std::fs::write(
        &policy,
        "roles:\n  readonly:\n    grants: ['inventory.*']\n    constraints: { max_in_flight_calls: 100 }\n",
    )
    .unwrap();
    let tweak: Tweak = Arc::new(move |c| {
        c.policy.path = Some(policy.clone());
        c.service.call_budget = Duration::from_secs(120);
        // Every call of the burst must run: coalesced, the forty would share one run.
        c.coalescing.enabled = false;
    });
    let sim_env = [
        ("TELEPORT_SIM_DELAY_MS".to_owned(), SLOW.as_millis().to_string()),
        ("TELEPORT_SIM_FAIL_ON".to_owned(), "get nodes".to_owned()),
    ]
    .into();
    let mut stack =
        Stack::start(StackOptions { tweak: Some(tweak), sim_env, worker_concurrency: 2, ..Default::default() })
            .await
            .unwrap();
    let readonly = Arc::new(stack.client("readonly").await.unwrap());
    let admin = stack.client("admin").await.unwrap();
    let burst: Vec<_> = (0..BURST)
        .map(|_| {
            let readonly = readonly.clone();
            tokio::spawn(async move { readonly.call("list_nodes", json!({})).await.unwrap() })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let queued: i64 = sqlx::query_scalar("SELECT count(*) FROM operations WHERE tool = 'list_nodes'")
            .fetch_one(&stack.db.pool)
            .await
            .unwrap();
        if queued as usize == BURST {
            break;
        }
        assert!(Instant::now() < deadline, "the burst never reached the queue ({queued} of {BURST})");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let started = Instant::now();
    let users = admin.call("list_users", json!({})).await.unwrap();
    let took = started.elapsed();
    assert_eq!(users.is_error, Some(false), "{}", text_of(&users));
    eprintln!("admin's list_users behind {BURST} slow calls on 2 slots took {took:?}");
    // Oldest-first, it would wait for twenty slow calls (~30 s); fair, for the one slot to free.
    assert!(took < SLOW * 3, "admin waited {took:?} behind the burst");
    let pending: i64 =
        sqlx::query_scalar("SELECT count(*) FROM operations WHERE tool = 'list_nodes' AND status = 'queued'")
            .fetch_one(&stack.db.pool)
            .await
            .unwrap();
    assert!(pending as usize > BURST / 2, "the burst was still waiting ({pending} queued)");
    for call in burst {
        call.abort();
    }
    admin.close().await;
    stack.stop().await;
}
