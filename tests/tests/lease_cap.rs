//! The per-actor lease cap holds under concurrency: simultaneous creations by one actor with a cap
//! of 10 leave exactly 10 leases (the groundwork of the proxy-lease tools).

use std::sync::Arc;

use mtcp_shared::db::leases::{Created, NewLease, create_capped};
use mtcp_shared::domain::{LeaseKind, OpId};
use mtcp_tests::TestDb;
use tokio::sync::Barrier;

/// Concurrent creations: each holds its own connection and transaction, and all reach the capped
/// insert together.
const CONCURRENT: usize = 32;

async fn attempt(pool: sqlx::PgPool, actor: &'static str, start: Option<Arc<Barrier>>) -> Created {
    let mut tx = pool.begin().await.unwrap();
    let op_id = OpId::generate();
    // The operation row the lease belongs to (what the gateway inserts in the same transaction).
    sqlx::query(
        "INSERT INTO operations (op_id, actor, actor_role, capability, tool, decision, status)
         VALUES ($1, $2, 'operator', 'proxy.start', 'start_proxy', '{}', 'queued')",
    )
    .bind(op_id.0)
    .bind(actor)
    .execute(&mut *tx)
    .await
    .unwrap();
    if let Some(b) = start {
        b.wait().await;
    }
    let lease = NewLease {
        lease_id: uuid::Uuid::new_v4(),
        op_id,
        kind: LeaseKind::ProxyDb,
        actor,
        target: serde_json::json!({ "db": "orders" }),
        requested_listen_addr: None,
        expires_at: chrono::Utc::now() + chrono::Duration::minutes(30),
    };
    let created = create_capped(&mut tx, &lease, 10).await.unwrap();
    tx.commit().await.unwrap();
    created
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creations_with_a_cap_of_ten_leave_exactly_ten() {
    let db = TestDb::new().await.unwrap();
    let pool = mtcp_shared::db::connect(&db.url, CONCURRENT as u32, std::time::Duration::from_secs(30)).await.unwrap();
    let barrier = Arc::new(Barrier::new(CONCURRENT));
    let tasks: Vec<_> =
        (0..CONCURRENT).map(|_| tokio::spawn(attempt(pool.clone(), "alice", Some(barrier.clone())))).collect();
    let mut created = 0;
    for t in tasks {
        match t.await.unwrap() {
            Created::Created => created += 1,
            Created::CapReached { live } => assert_eq!(live, 10),
        }
    }
    assert_eq!(created, 10);
    let live: i64 = sqlx::query_scalar("SELECT count(*) FROM leases WHERE actor = 'alice' AND status = 'starting'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(live, 10);
    // The cap is per actor: another actor is unaffected.
    assert_eq!(attempt(pool.clone(), "bob", None).await, Created::Created);
}

async fn agent(pool: &sqlx::PgPool, status: &str) -> uuid::Uuid {
    let id = uuid::Uuid::new_v4();
    sqlx::query(
        "INSERT INTO agents (agent_id, kind, host, boot_id, pid, version, status, offline_at)
         VALUES ($1, 'worker', 'h', 'b', 1, 'v', $2, CASE WHEN $2 = 'offline' THEN now() END)",
    )
    .bind(id)
    .bind(status)
    .execute(pool)
    .await
    .unwrap();
    id
}

async fn lease(pool: &sqlx::PgPool, owner: uuid::Uuid, expires_in: chrono::Duration) -> uuid::Uuid {
    let mut conn = pool.acquire().await.unwrap();
    let op_id = OpId::generate();
    sqlx::query(
        "INSERT INTO operations (op_id, actor, actor_role, capability, tool, decision, status)
         VALUES ($1, 'alice', 'operator', 'proxy.start', 'start_proxy', '{}', 'queued')",
    )
    .bind(op_id.0)
    .execute(&mut *conn)
    .await
    .unwrap();
    let id = uuid::Uuid::new_v4();
    let l = NewLease {
        lease_id: id,
        op_id,
        kind: LeaseKind::ProxyApp,
        actor: "alice",
        target: serde_json::json!({ "app": "grafana" }),
        requested_listen_addr: None,
        expires_at: chrono::Utc::now() + expires_in,
    };
    assert_eq!(create_capped(&mut conn, &l, 100).await.unwrap(), Created::Created);
    assert!(
        mtcp_shared::db::leases::activate(&mut conn, id, owner, "h", 4242, 1, Some("127.0.0.1:5555")).await.unwrap()
    );
    id
}

async fn state(pool: &sqlx::PgPool, id: uuid::Uuid) -> (String, Option<String>) {
    sqlx::query_as("SELECT status, stop_reason FROM leases WHERE lease_id = $1").bind(id).fetch_one(pool).await.unwrap()
}

#[tokio::test]
async fn the_reaper_expires_due_leases_and_fails_those_of_offline_owners_once() {
    let db = TestDb::new().await.unwrap();
    let online = agent(&db.pool, "online").await;
    let offline = agent(&db.pool, "offline").await;
    let due = lease(&db.pool, online, chrono::Duration::seconds(1)).await;
    let fresh = lease(&db.pool, online, chrono::Duration::hours(1)).await;
    let orphan = lease(&db.pool, offline, chrono::Duration::hours(1)).await;
    // A fresh heartbeat keeps the online agent online through the sweep.
    sqlx::query("UPDATE agents SET last_heartbeat_at = now()").execute(&db.pool).await.unwrap();

    let settings = mtcp_shared::config::ReaperConfig::default();
    let retention = std::time::Duration::from_secs(90 * 24 * 3600);
    let reapers = [
        mtcp_reaper::Reaper::new(db.pool.clone(), settings.clone(), retention),
        mtcp_reaper::Reaper::new(db.pool.clone(), settings, retention),
    ];
    let later = chrono::Utc::now() + chrono::Duration::seconds(5);
    let (a, b) = tokio::join!(reapers[0].run_once(later), reapers[1].run_once(later));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.leases_expired + b.leases_expired, 1, "two reapers move a lease once");
    assert_eq!(a.leases_owner_lost + b.leases_owner_lost, 1);
    assert_eq!(state(&db.pool, due).await, ("stopping".into(), Some("expired".into())));
    assert_eq!(state(&db.pool, fresh).await, ("active".into(), None));
    assert_eq!(state(&db.pool, orphan).await, ("failed".into(), Some("owner_lost".into())));
}

#[tokio::test]
async fn lease_logs_keep_only_the_last_lines() {
    let db = TestDb::new().await.unwrap();
    let owner = agent(&db.pool, "online").await;
    let id = lease(&db.pool, owner, chrono::Duration::hours(1)).await;
    let mut conn = db.pool.acquire().await.unwrap();
    let batch = |from: usize| (from..from + 5).map(|i| ("stderr".to_owned(), format!("line {i}"))).collect::<Vec<_>>();
    mtcp_shared::db::leases::append_logs(&mut conn, id, &batch(0), 3).await.unwrap();
    mtcp_shared::db::leases::append_logs(&mut conn, id, &batch(5), 3).await.unwrap();
    let tail = mtcp_shared::db::leases::tail_logs(&mut conn, id, 200).await.unwrap();
    let lines: Vec<&str> = tail.iter().map(|(_, _, l)| l.as_str()).collect();
    assert_eq!(lines, ["line 7", "line 8", "line 9"]);
    let two = mtcp_shared::db::leases::tail_logs(&mut conn, id, 2).await.unwrap();
    assert_eq!(two.iter().map(|(_, _, l)| l.as_str()).collect::<Vec<_>>(), ["line 8", "line 9"]);
    let listed = mtcp_shared::db::leases::list(&mut conn, Some("alice"), true, 10).await.unwrap();
    assert_eq!(listed.iter().map(|l| l.lease_id).collect::<Vec<_>>(), [id]);
    assert_eq!(listed[0].listen_addr.as_deref(), Some("127.0.0.1:5555"));
}
