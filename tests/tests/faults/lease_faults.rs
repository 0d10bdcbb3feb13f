//! Lease races and orphans: a hundred concurrent starts by one actor leave exactly the cap, three
//! times over; a worker owning twenty leases killed -9 leaves no proxy process and its leases end
//! `owner_lost`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mtcp_tests::client::text_of;
use mtcp_tests::{McpClient, Stack, StackOptions};
use serde_json::{Value, json};

use crate::common;

fn alive(pid: i64) -> bool {
    // A zombie is a process that is gone but not yet reaped by its parent.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| s.rsplit(')').next().is_some_and(|rest| !rest.trim_start().starts_with('Z')))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "slow fault injection: scripts/faults"]
async fn a_hundred_concurrent_starts_leave_exactly_the_cap_every_time() {
    let mut figures = Vec::new();
    for rep in 0..3 {
        let tweak: mtcp_tests::Tweak = Arc::new(|c| c.policy.rate_limit_per_minute = 0);
        let mut stack = Stack::start(StackOptions { tweak: Some(tweak), ..Default::default() }).await.unwrap();
        let clients: Vec<McpClient> = futures::future::join_all((0..4).map(|_| stack.client("operator")))
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        let args = json!({ "kind": "proxy_app", "target": { "app": "grafana" }, "ttl_seconds": 600, "reason": "race" });
        let started = Instant::now();
        let results =
            futures::future::join_all((0..100).map(|i| clients[i % 4].call("start_proxy", args.clone()))).await;
        let took = started.elapsed();
        let (mut ok, mut capped) = (0, 0);
        for r in results {
            let r = r.unwrap();
            if r.is_error == Some(false) {
                ok += 1;
            } else if text_of(&r).contains("you hold 10 live proxy leases") {
                capped += 1;
            } else {
                panic!("rep {rep}: neither started nor capped: {}", text_of(&r));
            }
        }
        let live: i64 = sqlx::query_scalar("SELECT count(*) FROM leases WHERE actor = 'dev-operator'")
            .fetch_one(&stack.db.pool)
            .await
            .unwrap();
        assert_eq!((ok, capped, live), (10, 90, 10), "rep {rep}: started, capped, lease rows");
        figures.push(took);
        stack.stop().await;
    }
    eprintln!("lease race: 3 × 100 concurrent start_proxy with a cap of 10 → 10 leases each time, in {figures:.1?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "slow fault injection: scripts/faults"]
async fn a_worker_owning_twenty_leases_killed_leaves_no_process() {
    let tweak: mtcp_tests::Tweak = Arc::new(|c| {
        c.worker.concurrency = 24;
        c.worker.heartbeat_interval = Duration::from_millis(500);
        c.leases.heartbeat_interval = Duration::from_millis(500);
        c.reaper.interval = Duration::from_millis(200);
        c.reaper.agent_offline_after = Duration::from_secs(3);
        c.policy.rate_limit_per_minute = 0;
    });
    let mut stack =
        Stack::start(StackOptions { worker: false, tweak: Some(tweak), ..Default::default() }).await.unwrap();
    let config = common::config_file(&stack);
    let mut worker = common::worker(&config);
    // Ten leases each for two actors (the per-actor cap is 10).
    let (admin, operator) = (stack.client("admin").await.unwrap(), stack.client("operator").await.unwrap());
    let starts = (0..20).map(|i| {
        let client = if i % 2 == 0 { &admin } else { &operator };
        let mut args = if i % 4 < 2 {
            json!({ "kind": "proxy_db", "target": { "db": "orders" } })
        } else {
            json!({ "kind": "proxy_app", "target": { "app": "grafana" } })
        };
        args["reason"] = json!("orphan test");
        client.call("start_proxy", args)
    });
    let leases: Vec<Value> = futures::future::join_all(starts)
        .await
        .into_iter()
        .map(|r| {
            let r = r.unwrap();
            assert_eq!(r.is_error, Some(false), "{}", text_of(&r));
            r.structured_content.unwrap()
        })
        .collect();
    let pids: Vec<i64> = leases.iter().map(|l| l["pid"].as_i64().unwrap()).collect();
    assert!(pids.iter().all(|p| alive(*p)), "twenty proxy processes run");
    worker.kill();
    let killed = Instant::now();
    let deadline = killed + Duration::from_secs(5);
    while pids.iter().any(|p| alive(*p)) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let gone_after = killed.elapsed();
    let survivors: Vec<&i64> = pids.iter().filter(|p| alive(**p)).collect();
    assert!(survivors.is_empty(), "proxy processes outlived their worker: {survivors:?}");
    // Once the owner is past the offline threshold, the reaper fails its leases.
    let ids: Vec<uuid::Uuid> = leases.iter().map(|l| l["lease_id"].as_str().unwrap().parse().unwrap()).collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    let ended = loop {
        let rows: Vec<(String, Option<String>)> =
            sqlx::query_as("SELECT status, stop_reason FROM leases WHERE lease_id = ANY($1)")
                .bind(&ids)
                .fetch_all(&stack.db.pool)
                .await
                .unwrap();
        if rows.iter().all(|r| r.0 != "active" && r.0 != "starting") || Instant::now() > deadline {
            break rows;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let failed_after = killed.elapsed();
    assert_eq!(ended.len(), 20);
    for row in &ended {
        assert_eq!((row.0.as_str(), row.1.as_deref()), ("failed", Some("owner_lost")), "{ended:?}");
    }
    eprintln!(
        "lease orphans: kill -9 of a worker owning 20 leases → 0 proxy processes after {gone_after:.2?}; \
         all 20 leases failed/owner_lost after {failed_after:.1?} (offline threshold 3 s)"
    );
    stack.stop().await;
}
