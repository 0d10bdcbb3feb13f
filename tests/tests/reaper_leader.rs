//! The reaper's leader loop (`mtcp_reaper::run`, the real service): a reaper that becomes leader —
//! at start, or again after the database restarted under it — does not read silence as death
//! before it has watched for one `agent_offline_after`, since every heartbeat is then as old as
//! the outage; after that it does.

mod reaper_support;

use std::time::{Duration, Instant};

use mtcp_shared::config::Config;
use mtcp_tests::TestDb;
use reaper_support::*;
use secrecy::SecretString;
use tokio_util::sync::CancellationToken;

async fn agent_status(pool: &sqlx::PgPool, id: uuid::Uuid) -> String {
    sqlx::query_scalar("SELECT status FROM agents WHERE agent_id = $1").bind(id).fetch_one(pool).await.unwrap()
}

#[tokio::test]
async fn a_new_leader_waits_one_offline_threshold_before_declaring_silent_workers_dead() {
    let db = TestDb::new().await.unwrap();
    // A worker last heard of an hour ago (as every worker looks right after a long outage), running
    // a read.
    let worker = agent(&db.pool, "online").await;
    sqlx::query("UPDATE agents SET last_heartbeat_at = now() - interval '1 hour' WHERE agent_id = $1")
        .bind(worker)
        .execute(&db.pool)
        .await
        .unwrap();
    let read = op(&db.pool, "list_nodes", "running", Some(worker)).await;

    let threshold = Duration::from_secs(3);
    let mut config = Config::default();
    config.database.url = Some(SecretString::from(db.url.clone()));
    config.reaper.listen = ([127, 0, 0, 1], 0).into();
    config.reaper.interval = Duration::from_millis(100);
    config.reaper.agent_offline_after = threshold;
    let shutdown = CancellationToken::new();
    let started = Instant::now();
    let reaper = tokio::spawn(mtcp_reaper::run(config, shutdown.clone()));

    // Well within the first threshold of leadership: nothing is judged by silence yet.
    tokio::time::sleep(threshold / 2).await;
    assert_eq!(agent_status(&db.pool, worker).await, "online", "declared dead during the leader's warm-up");
    assert_eq!(op_state(&db.pool, read).await.0, "running");

    // Past it, the worker that still has not beaten is offline and its read is queued again.
    let deadline = started + threshold * 3;
    while agent_status(&db.pool, worker).await != "offline" && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        agent_status(&db.pool, worker).await,
        "offline",
        "a silent worker is declared offline after the warm-up"
    );
    assert!(started.elapsed() >= threshold, "not before the warm-up: {:?}", started.elapsed());
    while op_state(&db.pool, read).await.0 != "queued" && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(op_state(&db.pool, read).await, ("queued".into(), None, 1), "the offline worker's read is re-queued");

    shutdown.cancel();
    reaper.await.unwrap().unwrap();
}
