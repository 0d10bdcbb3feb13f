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
