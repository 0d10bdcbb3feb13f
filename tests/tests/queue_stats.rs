//! What a worker scaler reads: per lane, the calls waiting (`mtcp_queue_depth`) and how long the
//! oldest claimable one has waited (`mtcp_queue_oldest_seconds`), both from one statement
//! (`db::queue::lane_stats`) that every worker runs at its heartbeat.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use mtcp_shared::db::queue::{self, Lane};
use mtcp_tests::{Stack, StackOptions};

#[tokio::test]
async fn lane_stats_count_the_waiting_calls_and_age_the_oldest_claimable_one() {
    let mut stack = Stack::start(StackOptions { worker: false, ..Default::default() }).await.unwrap();
    let pool = stack.db.pool.clone();
    let stats = queue::lane_stats(&pool).await.unwrap();
    assert_eq!(stats.len(), Lane::ALL.len());
    assert!(stats.iter().all(|s| s.depth == 0 && s.oldest_seconds == 0.0), "{stats:?}");

    let alice = mtcp_tests::queue::readonly("alice");
    mtcp_tests::queue::list_nodes(&pool, &alice).await.unwrap();
    // A call waiting out a retry pause is queued but not claimable: it counts, it does not age.
    let later = mtcp_tests::queue::list_nodes(&pool, &alice).await.unwrap();
    sqlx::query("UPDATE operations SET run_after = now() + interval '1 hour' WHERE op_id = $1")
        .bind(later.0)
        .execute(&pool)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;

    let stats = queue::lane_stats(&pool).await.unwrap();
    let tools = stats.iter().find(|s| s.lane == Lane::Tools).unwrap();
    assert_eq!(tools.depth, 2, "{stats:?}");
    assert_eq!(tools.depth, queue::depth(&pool, Lane::Tools).await.unwrap(), "the same count as `depth`");
    assert!((1.0..30.0).contains(&tools.oldest_seconds), "{stats:?}");
    let leases = stats.iter().find(|s| s.lane == Lane::Leases).unwrap();
    assert_eq!((leases.depth, leases.oldest_seconds), (0, 0.0), "{stats:?}");
    stack.stop().await;
}

/// The value of `name{queue="tools"}` on a /metrics page.
fn tools_gauge(page: &str, name: &str) -> Option<f64> {
    let prefix = format!("{name}{{queue=\"tools\"}} ");
    page.lines().find_map(|l| l.strip_prefix(&prefix)).and_then(|v| v.trim().parse().ok())
}

#[tokio::test]
async fn the_worker_reports_a_call_held_queued_behind_a_busy_slot() {
    // One slot, and list_nodes takes 4 s: the second call waits behind the first.
    let sim_env = BTreeMap::from([
        ("TELEPORT_SIM_DELAY_MS".to_owned(), "4000".to_owned()),
        ("TELEPORT_SIM_FAIL_ON".to_owned(), "get nodes".to_owned()),
    ]);
    // Two identical reads would share one run: each must queue on its own here.
    let tweak: mtcp_tests::Tweak = std::sync::Arc::new(|c| c.coalescing.enabled = false);
    let opts = StackOptions { worker_concurrency: 1, sim_env, tweak: Some(tweak), ..Default::default() };
    let mut stack = Stack::start(opts).await.unwrap();
    let admin = std::sync::Arc::new(stack.client("admin").await.unwrap());
    let calls: Vec<_> = (0..2)
        .map(|_| {
            let c = admin.clone();
            tokio::spawn(async move { c.call("list_nodes", serde_json::json!({})).await })
        })
        .collect();

    // The services share this process's recorder: the gateway's /metrics shows the worker's gauges.
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(4);
    let mut seen = (None, None);
    while Instant::now() < deadline {
        let page = http.get(format!("{}/metrics", stack.base)).send().await.unwrap().text().await.unwrap();
        seen = (tools_gauge(&page, "mtcp_queue_depth"), tools_gauge(&page, "mtcp_queue_oldest_seconds"));
        if seen.0 == Some(1.0) && seen.1.is_some_and(|s| s >= 1.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (depth, oldest) = seen;
    assert_eq!(depth, Some(1.0), "one call waits behind the busy slot");
    assert!(oldest.is_some_and(|s| (1.0..30.0).contains(&s)), "oldest claimable call's wait: {oldest:?}");
    for c in calls {
        let r = c.await.unwrap().unwrap();
        assert_eq!(r.is_error, Some(false));
    }
    stack.stop().await;
}
