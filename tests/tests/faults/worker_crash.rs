//! Workers killed -9 mid-job, over and over: reads are re-run by the next incarnation, mutations
//! end `outcome_unknown` and are never applied twice, and nothing stays running past the
//! recovery window.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mtcp_tests::{Stack, StackOptions};
use serde_json::json;

use crate::common::{self, Op};

/// Lanes run at once, each on its own stack; half run reads, half run creates.
const LANES: usize = 4;
/// Kills per lane (4 × 13 = 52 kills).
const ROUNDS: usize = 13;
/// Jobs in flight on the victim at each kill (its whole concurrency).
const PER_ROUND: usize = 2;
/// Longer than the offline threshold (2 s) + a reaper pass + a re-run (3 s), with slack for a
/// loaded machine.
const RECOVERY_WINDOW: Duration = Duration::from_secs(15);

#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Read,
    Create,
}

struct LaneReport {
    kind: Kind,
    kills: usize,
    ops: Vec<(uuid::Uuid, Op, Option<String>)>,
    recoveries: Vec<Duration>,
    /// Requests in the simulator's store before the first call.
    baseline: usize,
    state_dir: PathBuf,
    _dir: tempfile::TempDir,
}

async fn lane(kind: Kind) -> LaneReport {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().display().to_string();
    let mut sim_env = BTreeMap::from([("TELEPORT_SIM_STATE_DIR".to_owned(), marker.clone())]);
    match kind {
        // The simulator takes 8 s to list nodes: the kill lands mid-run, even when a loaded worker
        // claims the round's jobs seconds apart.
        Kind::Read => {
            sim_env.insert("TELEPORT_SIM_DELAY_MS".into(), "8000".into());
            sim_env.insert("TELEPORT_SIM_FAIL_ON".into(), "get nodes".into());
        }
        // The create is applied, then the simulator never exits: the kill lands after Teleport
        // has the request and before the worker can report it.
        Kind::Create => {
            sim_env.insert("TELEPORT_SIM_HANG_AFTER".into(), "1".into());
            sim_env.insert("TELEPORT_SIM_FAIL_ON".into(), "request create".into());
        }
    }
    let tweak: mtcp_tests::Tweak = Arc::new(|c| {
        c.worker.concurrency = PER_ROUND;
        c.worker.heartbeat_interval = Duration::from_millis(300);
        c.leases.heartbeat_interval = Duration::from_millis(500);
        c.reaper.interval = Duration::from_millis(200);
        c.reaper.agent_offline_after = Duration::from_secs(2);
        c.policy.rate_limit_per_minute = 0;
        // Every read of a round must run on its own (and be killed mid-run): coalesced, they would
        // wait queued behind one run.
        c.coalescing.enabled = false;
    });
    let opts = StackOptions {
        sim_env,
        worker: false,
        call_budget: Duration::from_millis(500),
        cli_timeout: Duration::from_secs(60),
        tweak: Some(tweak),
        ..Default::default()
    };
    let mut stack = Stack::start(opts).await.unwrap();
    let config = common::config_file(&stack);
    let client = stack.client("operator").await.unwrap();
    let (tool, args) = match kind {
        Kind::Read => ("list_nodes", json!({})),
        Kind::Create => ("create_access_request", json!({ "resources": ["access"], "reason": "crash trial" })),
    };
    // The simulated cluster comes with requests of its own.
    let baseline = common::requests_in_store(dir.path());
    let mut victim = common::worker(&config);
    let mut ops = Vec::new();
    let mut recoveries = Vec::new();
    for round in 0..ROUNDS {
        let calls = futures::future::join_all((0..PER_ROUND).map(|_| client.call(tool, args.clone()))).await;
        let ids: Vec<uuid::Uuid> = calls
            .into_iter()
            .map(|r| {
                let r = r.unwrap();
                common::op_id(&r).unwrap_or_else(|| panic!("accepted without an op id: {r:?}"))
            })
            .collect();
        // Until every job of the round runs at once (a worker may claim them one poll apart).
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let mut all = true;
            for id in &ids {
                let o = common::op(&stack.db.pool, *id).await;
                assert!(!o.terminal(), "{kind:?} round {round}: {id} ended before the kill: {o:?}");
                all &= o.status == "running";
            }
            if all {
                break;
            }
            assert!(Instant::now() < deadline, "{kind:?} round {round}: the jobs never started");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        if kind == Kind::Create {
            // Wait until Teleport has every request of this round.
            let want = baseline + (round + 1) * PER_ROUND;
            let deadline = Instant::now() + Duration::from_secs(10);
            while common::requests_in_store(dir.path()) < want && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            assert_eq!(common::requests_in_store(dir.path()), want, "round {round}: the creates were applied");
        }
        let mut at_kill = Vec::new();
        for id in &ids {
            let o = common::op(&stack.db.pool, *id).await;
            assert_eq!(o.status, "running", "{kind:?} round {round}: the kill must land mid-job: {o:?}");
            at_kill.push(o.worker_id);
        }
        victim.kill();
        let killed = Instant::now();
        common::kill_marked(&marker);
        // The next incarnation: it re-runs the reads, then is the next victim.
        victim = common::worker(&config);
        let ended = common::wait_ops(&stack.db.pool, &ids, RECOVERY_WINDOW, Op::terminal).await;
        for (i, id) in ids.iter().enumerate() {
            let at = ended[i].unwrap_or_else(|| panic!("{kind:?} round {round}: op {id} still non-terminal"));
            recoveries.push(at - killed);
            ops.push((*id, common::op(&stack.db.pool, *id).await, at_kill[i].clone()));
        }
    }
    victim.kill();
    common::kill_marked(&marker);
    stack.stop().await;
    LaneReport { kind, kills: ROUNDS, ops, recoveries, baseline, state_dir: dir.path().to_owned(), _dir: dir }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "slow fault injection: scripts/faults"]
async fn workers_killed_mid_job_never_lose_a_read_nor_repeat_a_mutation() {
    let started = Instant::now();
    let lanes = (0..LANES).map(|i| lane(if i % 2 == 0 { Kind::Read } else { Kind::Create }));
    let reports = futures::future::join_all(lanes).await;
    let kills: usize = reports.iter().map(|r| r.kills).sum();
    let all: Vec<Duration> = reports.iter().flat_map(|r| r.recoveries.clone()).collect();
    let worst = all.iter().max().copied().unwrap_or_default();
    let mean = all.iter().sum::<Duration>() / all.len().max(1) as u32;
    let (mut reads, mut creates) = (0, 0);
    for r in &reports {
        for (id, o, killed_on) in &r.ops {
            match r.kind {
                Kind::Read => {
                    reads += 1;
                    assert_eq!(o.status, "succeeded", "read {id} completes after the crash: {o:?}");
                    assert!(o.attempt >= 2 && o.worker_id != *killed_on, "read {id} re-run by a new worker: {o:?}");
                }
                Kind::Create => {
                    creates += 1;
                    assert_eq!(o.status, "failed", "create {id}: {o:?}");
                    assert!(o.error.as_deref().unwrap_or_default().contains("outcome_unknown"), "create {id}: {o:?}");
                }
            }
        }
        if r.kind == Kind::Create {
            // Every create reached Teleport exactly once: none lost, none run twice.
            let created = common::requests_in_store(&r.state_dir) - r.baseline;
            assert_eq!(created, r.ops.len(), "requests in Teleport vs creates");
        }
    }
    eprintln!(
        "worker crash: {kills} kill -9 mid-job, {reads} reads re-run and succeeded, {creates} creates ended \
         outcome_unknown with exactly {creates} requests in Teleport; recovery after a kill: mean {mean:.1?}, \
         worst {worst:.1?} (window {RECOVERY_WINDOW:?}); {:.1?} in all",
        started.elapsed()
    );
    assert!(kills >= 50);
}
