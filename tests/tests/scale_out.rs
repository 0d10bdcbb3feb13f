//! Scale-out with real processes: two gateways and two workers on one database, no session
//! affinity. Calls alternate between gateways; progress reaches the client from whichever worker
//! runs the job; a gateway killed mid-call loses nothing — the operation completes and is read
//! through the other gateway.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Child;
use std::time::{Duration, Instant};

use mtcp_tests::client::text_of;
use mtcp_tests::process::{ServiceProcess, free_port};
use mtcp_tests::{McpClient, Stack, StackOptions};
use serde_json::json;

struct Worker(Child);

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn worker(config: &std::path::Path) -> Worker {
    Worker(mtcp_tests::process::worker_command(config).spawn().unwrap())
}

#[tokio::test]
async fn two_gateways_and_two_workers_share_the_work_and_lose_nothing() {
    // list_nodes takes 1.5 s in the simulator, so a gateway can be killed while one is in flight.
    let sim_env = BTreeMap::from([
        ("TELEPORT_SIM_DELAY_MS".to_owned(), "1500".to_owned()),
        ("TELEPORT_SIM_FAIL_ON".to_owned(), "get nodes".to_owned()),
    ]);
    let tweak: mtcp_tests::Tweak = std::sync::Arc::new(|c| {
        // Two jobs per worker at once: eight concurrent calls need both workers.
        c.worker.concurrency = 2;
        c.policy.rate_limit_per_minute = 0;
    });
    let opts = StackOptions { worker: false, sim_env, tweak: Some(tweak), ..Default::default() };
    let mut stack = Stack::start(opts).await.unwrap();
    let config = stack.dir.path().join("services.yaml");
    // Secrets never serialize: the database URL goes in by hand.
    let mut yaml = serde_yaml::to_value(&stack.config).unwrap();
    yaml["database"]["url"] = serde_yaml::Value::String(stack.db.url.clone());
    std::fs::write(&config, serde_yaml::to_string(&yaml).unwrap()).unwrap();
    let (g1, g2) = (
        ServiceProcess::gateway(&config, free_port()).await.unwrap(),
        ServiceProcess::gateway(&config, free_port()).await.unwrap(),
    );
    let _workers = [worker(&config), worker(&config)];
    let key = stack.key("operator").to_owned();
    let c1 = McpClient::connect(&g1.url(), Some(&key)).await.unwrap();
    let c2 = McpClient::connect(&g2.url(), Some(&key)).await.unwrap();

    // Eight health checks at once, alternating gateways, each with a progress token.
    let calls = (0..8).map(|i| {
        let c = if i % 2 == 0 { &c1 } else { &c2 };
        c.call_with_progress("run_health_check", json!({}))
    });
    let results = futures::future::join_all(calls).await;
    let mut ran_on = BTreeSet::new();
    for r in results {
        let (result, progress) = r.unwrap();
        assert_eq!(result.is_error, Some(false), "{}", text_of(&result));
        let values: Vec<f64> = progress.iter().map(|p| p.progress).collect();
        assert_eq!(values, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "every call gets every step");
        let op_id = result.meta.unwrap().0["mtcp/op_id"].as_str().unwrap().to_owned();
        let worker: String = sqlx::query_scalar("SELECT worker_id FROM operations WHERE op_id = $1::uuid")
            .bind(&op_id)
            .fetch_one(&stack.db.pool)
            .await
            .unwrap();
        ran_on.insert(worker);
    }
    assert_eq!(ran_on.len(), 2, "both workers ran jobs and relayed progress through both gateways: {ran_on:?}");

    // A gateway killed mid-call: the operation completes anyway and is read through the other one.
    let in_flight = tokio::spawn(async move { c1.call("list_nodes", json!({})).await });
    let deadline = Instant::now() + Duration::from_secs(10);
    let op_id: uuid::Uuid = loop {
        let running: Option<uuid::Uuid> = sqlx::query_scalar(
            "SELECT op_id FROM operations WHERE tool = 'list_nodes' AND status = 'running' ORDER BY created_at DESC",
        )
        .fetch_optional(&stack.db.pool)
        .await
        .unwrap();
        if let Some(id) = running {
            break id;
        }
        assert!(Instant::now() < deadline, "list_nodes never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let mut g1 = g1;
    g1.child.kill().unwrap();
    let _ = g1.child.wait();
    let lost = in_flight.await.unwrap();
    assert!(lost.is_err() || lost.unwrap().is_error == Some(true), "the killed gateway cannot answer");
    let deadline = Instant::now() + Duration::from_secs(15);
    let op = loop {
        let r = c2.call("get_operation", json!({ "op_id": op_id })).await.unwrap();
        let op = r.structured_content.unwrap();
        if op["status"] != "running" && op["status"] != "queued" || Instant::now() > deadline {
            break op;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(op["status"], "succeeded", "{op}");
    assert_eq!(op["result"]["nodes"].as_array().map(Vec::len), Some(23), "the full result through the other gateway");
    stack.stop().await;
}
