//! A gateway killed mid-call, five times: the operation completes anyway and is read through the
//! other gateway (the scenario of `scale_out.rs`, repeated with timing).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use mtcp_tests::process::{ServiceProcess, free_port};
use mtcp_tests::{McpClient, Stack, StackOptions};
use serde_json::json;

use crate::common;

const TRIALS: usize = 5;

#[tokio::test]
#[ignore = "slow fault injection: scripts/faults"]
async fn a_gateway_killed_mid_call_loses_nothing_five_times_over() {
    // list_nodes takes 1.5 s in the simulator, so a gateway can be killed while one is in flight.
    let sim_env = BTreeMap::from([
        ("TELEPORT_SIM_DELAY_MS".to_owned(), "1500".to_owned()),
        ("TELEPORT_SIM_FAIL_ON".to_owned(), "get nodes".to_owned()),
    ]);
    let mut stack = Stack::start(StackOptions { sim_env, worker: false, ..Default::default() }).await.unwrap();
    let config = common::config_file(&stack);
    let _worker = common::worker(&config);
    let survivor = ServiceProcess::gateway(&config, free_port()).await.unwrap();
    let key = stack.key("operator").to_owned();
    let reader = McpClient::connect(&survivor.url(), Some(&key)).await.unwrap();
    let mut times = Vec::new();
    for trial in 0..TRIALS {
        let mut doomed = ServiceProcess::gateway(&config, free_port()).await.unwrap();
        let caller = McpClient::connect(&doomed.url(), Some(&key)).await.unwrap();
        let in_flight = tokio::spawn(async move { caller.call("list_nodes", json!({})).await });
        let deadline = Instant::now() + Duration::from_secs(10);
        let op_id: uuid::Uuid = loop {
            let running: Option<uuid::Uuid> = sqlx::query_scalar(
                "SELECT op_id FROM operations WHERE tool = 'list_nodes' AND status = 'running'
                 ORDER BY created_at DESC LIMIT 1",
            )
            .fetch_optional(&stack.db.pool)
            .await
            .unwrap();
            if let Some(id) = running {
                break id;
            }
            assert!(Instant::now() < deadline, "trial {trial}: list_nodes never started");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        doomed.child.kill().unwrap();
        let _ = doomed.child.wait();
        let killed = Instant::now();
        let lost = in_flight.await.unwrap();
        assert!(lost.is_err() || lost.unwrap().is_error == Some(true), "the killed gateway cannot answer");
        let deadline = Instant::now() + Duration::from_secs(15);
        let op = loop {
            let r = reader.call("get_operation", json!({ "op_id": op_id })).await.unwrap();
            let op = r.structured_content.unwrap();
            if op["status"] != "running" && op["status"] != "queued" || Instant::now() > deadline {
                break op;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(op["status"], "succeeded", "trial {trial}: {op}");
        assert_eq!(op["result"]["nodes"].as_array().map(Vec::len), Some(23), "the full result through the survivor");
        times.push(killed.elapsed());
    }
    let worst = times.iter().max().unwrap();
    eprintln!(
        "gateway crash: {TRIALS} gateways killed mid-call, every operation succeeded and was read through the \
         other gateway; kill → result readable: {times:.1?} (worst {worst:.1?})"
    );
    stack.stop().await;
}
