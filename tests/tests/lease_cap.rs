//! The per-actor lease cap holds under concurrency: simultaneous creations by one actor with a cap
//! of 10 leave exactly 10 leases (the groundwork of the proxy-lease tools). Two reapers sweeping
//! at once act on each lease and operation once. Lease logs keep only the last lines.

use std::sync::Arc;

use mtcp_shared::db::leases::{Created, NewLease, create_capped};
use mtcp_shared::domain::{LeaseKind, OpId};
use mtcp_tests::TestDb;
use tokio::sync::Barrier;

mod reaper_support;

/// Concurrent creations: each holds its own connection and transaction, and all reach the capped
/// insert together.
const CONCURRENT: usize = 32;

async fn attempt(pool: sqlx::PgPool, actor: &'static str, start: Option<Arc<Barrier>>) -> Created {
    let mut tx = pool.begin().await.unwrap();
    let op_id = OpId::generate();
    // The operation row the lease belongs to (what the gateway inserts in the same transaction).
    sqlx::query(
        "INSERT INTO operations (op_id, actor, actor_role, capability, tool, decision, status,
                                 lane, payload, mutating, run_after, max_attempts)
         VALUES ($1, $2, 'operator', 'proxy.start', 'start_proxy', '{}', 'queued', 'leases', '{}', true, now(), 1)",
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
        edge_agent: None,
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
        "INSERT INTO operations (op_id, actor, actor_role, capability, tool, decision, status,
                                 lane, payload, mutating, run_after, max_attempts)
         VALUES ($1, 'alice', 'operator', 'proxy.start', 'start_proxy', '{}', 'queued', 'leases', '{}', true, now(), 1)",
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
        edge_agent: None,
    };
    assert_eq!(create_capped(&mut conn, &l, 100).await.unwrap(), Created::Created);
    assert!(
        mtcp_shared::db::leases::activate(&mut *conn, id, owner, "h", 4242, 1, Some("127.0.0.1:5555")).await.unwrap()
    );
    id
}

async fn state(pool: &sqlx::PgPool, id: uuid::Uuid) -> (String, Option<String>) {
    sqlx::query_as("SELECT status, stop_reason FROM leases WHERE lease_id = $1").bind(id).fetch_one(pool).await.unwrap()
}

/// Rows of each kind every rule acts on, so two concurrent reapers race on all of them.
const PER_RULE: usize = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_reapers_act_once_on_every_lease_and_operation() {
    use reaper_support as rs;
    let db = TestDb::new().await.unwrap();
    let online = agent(&db.pool, "online").await;
    let offline = agent(&db.pool, "offline").await;
    let mut due = Vec::new();
    let mut orphans = Vec::new();
    let mut unowned = Vec::new();
    for _ in 0..PER_RULE {
        let soon = rs::Lease { owner: Some(online), expires_in: chrono::Duration::seconds(1), ..rs::Lease::active() };
        due.push(rs::lease(&db.pool, soon).await);
        orphans.push(rs::lease(&db.pool, rs::Lease { owner: Some(offline), ..rs::Lease::active() }).await);
        orphans.push(
            rs::lease(&db.pool, rs::Lease { owner: Some(offline), status: "starting", ..rs::Lease::active() }).await,
        );
        unowned.push(rs::lease(&db.pool, rs::Lease::unowned("starting")).await);
        let stopped =
            rs::Lease { stop_reason: Some("stopped by alice"), op_status: "failed", ..rs::Lease::unowned("stopping") };
        unowned.push(rs::lease(&db.pool, stopped).await);
        for tool in ["create_access_request", "list_nodes"] {
            rs::op(&db.pool, tool, "running", Some(offline)).await;
        }
    }
    let fresh = rs::lease(&db.pool, rs::Lease { owner: Some(online), ..rs::Lease::active() }).await;

    let reapers = [rs::reaper(&db.pool), rs::reaper(&db.pool)];
    // Past the expiry of `due` and the start deadline of the unowned leases.
    let later = chrono::Utc::now() + chrono::Duration::minutes(3);
    let (a, b) = tokio::join!(reapers[0].run_once(later), reapers[1].run_once(later));
    let (a, b) = (a.unwrap(), b.unwrap());
    let n = PER_RULE;
    assert_eq!(a.leases_expired + b.leases_expired, n, "two reapers move a lease once");
    assert_eq!(a.leases_owner_lost + b.leases_owner_lost, 2 * n);
    assert_eq!(a.leases_never_started + b.leases_never_started, n);
    assert_eq!(a.leases_ended_unstarted + b.leases_ended_unstarted, n);
    assert_eq!(a.ops_outcome_unknown + b.ops_outcome_unknown, n);
    assert_eq!(a.jobs_requeued + b.jobs_requeued, n);
    for id in &due {
        assert_eq!(state(&db.pool, *id).await, ("stopping".into(), Some("expired".into())));
    }
    for id in &orphans {
        assert_eq!(state(&db.pool, *id).await, ("failed".into(), Some("owner_lost".into())));
    }
    assert_eq!(state(&db.pool, fresh).await, ("active".into(), None));
    // One record per action: a system line per lease moved, a state event per operation.
    let lines: Vec<i64> =
        sqlx::query_scalar("SELECT count(*) FROM lease_logs WHERE stream = 'system' GROUP BY lease_id")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(lines.len(), due.len() + orphans.len() + unowned.len());
    assert!(lines.iter().all(|&c| c == 1), "{lines:?}");
    let events: Vec<i64> =
        sqlx::query_scalar("SELECT count(*) FROM operation_events WHERE kind = 'state' GROUP BY op_id")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    // Lost mutations, re-queued reads, and the queued starts of the never-started leases.
    assert_eq!(events.len(), 3 * n);
    assert!(events.iter().all(|&c| c == 1), "{events:?}");
    // And nothing more to do.
    let again = reapers[0].run_once(later).await.unwrap();
    assert_eq!(again, mtcp_reaper::SweepReport::default());
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
    let tail = mtcp_shared::db::leases::tail_logs(&mut *conn, id, 200).await.unwrap();
    let lines: Vec<&str> = tail.iter().map(|(_, _, l)| l.as_str()).collect();
    assert_eq!(lines, ["line 7", "line 8", "line 9"]);
    let two = mtcp_shared::db::leases::tail_logs(&mut *conn, id, 2).await.unwrap();
    assert_eq!(two.iter().map(|(_, _, l)| l.as_str()).collect::<Vec<_>>(), ["line 8", "line 9"]);
    let listed = mtcp_shared::db::leases::list(&mut *conn, Some("alice"), true, 10).await.unwrap();
    assert_eq!(listed.iter().map(|l| l.lease_id).collect::<Vec<_>>(), [id]);
    assert_eq!(listed[0].listen_addr.as_deref(), Some("127.0.0.1:5555"));
}
