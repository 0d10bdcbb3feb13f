//! The reaper's rules, each stepped with `run_once(now)` at chosen times over rows inserted
//! directly: lease expiry, offline owners, leases no worker took, recovery of the jobs of offline
//! workers (mutations end `outcome_unknown`, reads go back to the queue) and retention. Every
//! action leaves the record a user would look at: a `system` lease log line or a `state` event.

mod reaper_support;

use chrono::{Duration, Utc};
use mtcp_shared::db;
use mtcp_tests::TestDb;
use reaper_support::*;
use sqlx::postgres::PgListener;

#[tokio::test]
async fn an_expired_lease_goes_stopping_its_owner_is_told_and_the_user_sees_why() {
    let db = TestDb::new().await.unwrap();
    let owner = agent(&db.pool, "online").await;
    let due = lease(&db.pool, Lease { owner: Some(owner), expires_in: Duration::minutes(10), ..Lease::active() }).await;
    let fresh = lease(&db.pool, Lease { owner: Some(owner), ..Lease::active() }).await;
    let mut listener = PgListener::connect_with(&db.pool).await.unwrap();
    listener.listen(db::leases::LEASES_CHANNEL).await.unwrap();

    let reaper = reaper(&db.pool);
    let now = Utc::now() + Duration::minutes(11);
    let report = reaper.run_once(now).await.unwrap();
    assert_eq!(report.leases_expired, 1);
    assert_eq!(lease_state(&db.pool, due).await, ("stopping".into(), Some("expired".into())));
    assert_eq!(lease_state(&db.pool, fresh).await, ("active".into(), None));
    let told = tokio::time::timeout(std::time::Duration::from_secs(5), listener.recv()).await.unwrap().unwrap();
    assert_eq!(told.payload(), due.to_string(), "the owner is woken for this lease");
    let lines = system_lines(&db.pool, due).await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("expired at 20") && lines[0].ends_with("(TTL passed); stopping"), "{lines:?}");
    assert!(system_lines(&db.pool, fresh).await.is_empty());
    // Moved once: a second sweep does nothing more.
    assert_eq!(reaper.run_once(now).await.unwrap().leases_expired, 0);
    assert_eq!(system_lines(&db.pool, due).await.len(), 1);
}

#[tokio::test]
async fn leases_of_an_offline_owner_fail_owner_lost_even_while_starting() {
    let db = TestDb::new().await.unwrap();
    let online = agent(&db.pool, "online").await;
    let offline = agent(&db.pool, "offline").await;
    let active = lease(&db.pool, Lease { owner: Some(offline), ..Lease::active() }).await;
    let starting = lease(&db.pool, Lease { owner: Some(offline), status: "starting", ..Lease::active() }).await;
    let stopping = lease(
        &db.pool,
        Lease { owner: Some(offline), status: "stopping", stop_reason: Some("expired"), ..Lease::active() },
    )
    .await;
    let healthy = lease(&db.pool, Lease { owner: Some(online), ..Lease::active() }).await;

    let now = Utc::now();
    let report = reaper(&db.pool).run_once(now).await.unwrap();
    assert_eq!(report.leases_owner_lost, 3);
    assert_eq!(report.leases_expired, 0);
    for id in [active, starting, stopping] {
        assert_eq!(lease_state(&db.pool, id).await, ("failed".into(), Some("owner_lost".into())));
        let lines = system_lines(&db.pool, id).await;
        assert_eq!(lines, [format!("owner worker {offline} on host-{offline} offline; lease failed (owner_lost)")]);
        let ended: Option<chrono::DateTime<Utc>> =
            sqlx::query_scalar("SELECT ended_at FROM leases WHERE lease_id = $1")
                .bind(id)
                .fetch_one(&db.pool)
                .await
                .unwrap();
        assert_eq!(ended.map(|t| t.timestamp()), Some(now.timestamp()));
    }
    assert_eq!(lease_state(&db.pool, healthy).await, ("active".into(), None));
}

#[tokio::test]
async fn a_lease_no_worker_took_fails_never_started_after_the_deadline_with_its_operation() {
    let db = TestDb::new().await.unwrap();
    let unowned = lease(&db.pool, Lease::unowned("starting")).await;
    let op = lease_op(&db.pool, unowned).await;
    // A worker took this one and is starting it: its own start timeout governs, not the deadline.
    let being_started = lease(&db.pool, Lease { op_status: "running", ..Lease::unowned("starting") }).await;
    let reaper = reaper(&db.pool);
    let mut listener = PgListener::connect_with(&db.pool).await.unwrap();
    listener.listen(db::OPS_CHANNEL).await.unwrap();

    let early = reaper.run_once(Utc::now() + Duration::minutes(1)).await.unwrap();
    assert_eq!(early.leases_never_started, 0, "within the 2m deadline a worker may still take it");
    let late = reaper.run_once(Utc::now() + Duration::minutes(3)).await.unwrap();
    assert_eq!(late.leases_never_started, 1);
    assert_eq!(lease_state(&db.pool, unowned).await, ("failed".into(), Some("never_started".into())));
    assert_eq!(
        system_lines(&db.pool, unowned).await,
        ["no worker started this lease within 2m; failed (never_started)"]
    );
    let row = db::operations::get(&db.pool, op).await.unwrap().unwrap();
    assert_eq!(row.status, "failed");
    assert!(row.error.as_deref().unwrap().starts_with("no worker took this start within 2m"), "{:?}", row.error);
    let told = tokio::time::timeout(std::time::Duration::from_secs(5), listener.recv()).await.unwrap().unwrap();
    assert_eq!(told.payload(), op.0.to_string(), "the caller waiting on the start is woken");
    let events = state_events(&db.pool, op).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["reason"], "never_started");
    // A late worker must not start it: nothing is claimable.
    assert!(
        db::queue::claim(&db.pool, db::queue::Lane::Leases, "late", &db::queue::Serving::legacy())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(lease_state(&db.pool, being_started).await, ("starting".into(), None));
}

#[tokio::test]
async fn a_lease_stopped_before_any_worker_took_it_is_ended() {
    let db = TestDb::new().await.unwrap();
    // Stopped while its start is still queued: a worker may yet take the job (and see `stopping`).
    let queued = lease(&db.pool, Lease { stop_reason: Some("stopped by alice"), ..Lease::unowned("stopping") }).await;
    // Stopped, and its start already ended: no worker will ever come.
    let ended_op = lease(
        &db.pool,
        Lease { stop_reason: Some("stopped by alice"), op_status: "failed", ..Lease::unowned("stopping") },
    )
    .await;
    // Expired before any worker took it.
    let expired = lease(&db.pool, Lease { stop_reason: Some("expired"), ..Lease::unowned("stopping") }).await;
    let reaper = reaper(&db.pool);

    let now = reaper.run_once(Utc::now()).await.unwrap();
    assert_eq!(now.leases_ended_unstarted, 1, "only the one whose start operation is terminal ends at once");
    assert_eq!(lease_state(&db.pool, ended_op).await, ("stopped".into(), Some("stopped by alice".into())));
    assert_eq!(system_lines(&db.pool, ended_op).await, ["no worker had started this lease; nothing to stop; stopped"]);
    assert_eq!(lease_state(&db.pool, queued).await.0, "stopping");

    let later = reaper.run_once(Utc::now() + Duration::minutes(3)).await.unwrap();
    assert_eq!(later.leases_ended_unstarted, 2);
    assert_eq!(lease_state(&db.pool, queued).await, ("stopped".into(), Some("stopped by alice".into())));
    assert_eq!(lease_state(&db.pool, expired).await, ("expired".into(), Some("expired".into())));
    let op = lease_op(&db.pool, queued).await;
    let row = db::operations::get(&db.pool, op).await.unwrap().unwrap();
    assert_eq!(row.status, "cancelled", "the start never ran: {:?}", row.error);
    assert_eq!(state_events(&db.pool, op).await[0]["reason"], "lease_stopped_before_start");
}

#[tokio::test]
async fn a_running_mutation_of_an_offline_worker_fails_outcome_unknown_and_is_not_rerun() {
    let db = TestDb::new().await.unwrap();
    let dead = agent(&db.pool, "offline").await;
    let alive = agent(&db.pool, "online").await;
    let lost = op(&db.pool, "create_access_request", "running", Some(dead)).await;
    let healthy = op(&db.pool, "create_access_request", "running", Some(alive)).await;
    let mut listener = PgListener::connect_with(&db.pool).await.unwrap();
    listener.listen(db::OPS_CHANNEL).await.unwrap();

    let report = reaper(&db.pool).run_once(Utc::now()).await.unwrap();
    assert_eq!(report.ops_outcome_unknown, 1);
    assert_eq!(report.jobs_requeued, 0, "a mutation is never re-queued");
    let row = db::operations::get(&db.pool, lost).await.unwrap().unwrap();
    assert_eq!(row.status, "failed");
    let error = row.error.unwrap();
    assert!(
        error.starts_with("outcome_unknown: attempt 1 of this create_access_request was running on worker"),
        "{error}"
    );
    assert!(error.contains(&dead.to_string()) && error.contains("Verify in Teleport"), "{error}");
    let told = tokio::time::timeout(std::time::Duration::from_secs(5), listener.recv()).await.unwrap().unwrap();
    assert_eq!(told.payload(), lost.0.to_string());
    let events = state_events(&db.pool, lost).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["reason"], "outcome_unknown");
    assert_eq!(events[0]["worker_id"], dead.to_string());
    let payload: Option<serde_json::Value> = sqlx::query_scalar("SELECT payload FROM operations WHERE op_id = $1")
        .bind(lost.0)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(payload, None, "an ended operation keeps no job payload");
    // No other worker picks it up.
    assert!(
        db::queue::claim(&db.pool, db::queue::Lane::Tools, &alive.to_string(), &db::queue::Serving::legacy())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(db::operations::get(&db.pool, healthy).await.unwrap().unwrap().status, "running");
}

#[tokio::test]
async fn reads_of_an_offline_worker_go_back_to_the_queue_until_their_attempts_run_out() {
    let db = TestDb::new().await.unwrap();
    let dead = agent(&db.pool, "offline").await;
    let alive = agent(&db.pool, "online").await;
    // A read that was running on the dead worker, one that already used its last attempt, and a
    // read of a live worker.
    let read = op(&db.pool, "list_nodes", "running", Some(dead)).await;
    let spent = op(&db.pool, "list_roles", "running", Some(dead)).await;
    sqlx::query("UPDATE operations SET attempt = 3 WHERE op_id = $1").bind(spent.0).execute(&db.pool).await.unwrap();
    let healthy = op(&db.pool, "list_nodes", "running", Some(alive)).await;
    let mut listener = PgListener::connect_with(&db.pool).await.unwrap();
    listener.listen(db::queue::QUEUE_CHANNEL).await.unwrap();

    let report = reaper(&db.pool).run_once(Utc::now()).await.unwrap();
    assert_eq!(report.jobs_requeued, 1);
    assert_eq!(report.ops_outcome_unknown, 1, "the read out of attempts ends");
    assert_eq!(op_state(&db.pool, read).await, ("queued".into(), None, 1));
    let events = state_events(&db.pool, read).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["action"], "requeued");
    let told = tokio::time::timeout(std::time::Duration::from_secs(5), listener.recv()).await.unwrap().unwrap();
    assert_eq!(told.payload(), "tools", "the lane is woken");
    let row = db::operations::get(&db.pool, spent).await.unwrap().unwrap();
    assert_eq!(row.status, "failed");
    assert!(row.error.as_deref().unwrap().contains("that was its last attempt"), "{:?}", row.error);
    assert_eq!(state_events(&db.pool, spent).await[0]["reason"], "attempts_exhausted");
    assert_eq!(op_state(&db.pool, healthy).await.0, "running");
    // The next worker's claim runs the read again (at least once), as attempt 2.
    let next = db::queue::claim(&db.pool, db::queue::Lane::Tools, &alive.to_string(), &db::queue::Serving::legacy())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((next.op_id, next.attempt), (read, 2));
}

#[tokio::test]
async fn retention_deletes_old_ended_rows_and_keeps_recent_and_live_ones() {
    let db = TestDb::new().await.unwrap();
    let owner = agent(&db.pool, "online").await;
    // Chosen so "old" rows are past both retentions and "recent" ones within them.
    let now = Utc::now() + Duration::days(100);
    let recent = now - Duration::days(1);

    let old_op = op(&db.pool, "list_nodes", "succeeded", None).await;
    add_event(&db.pool, old_op).await;
    let running_op = op(&db.pool, "list_nodes", "running", Some(owner)).await;
    let recent_op = op(&db.pool, "list_nodes", "succeeded", None).await;
    set_ended(&db.pool, "operations", "op_id", recent_op.0, recent).await;
    let old_lease = lease(&db.pool, Lease { status: "stopped", stop_reason: Some("stopped"), ..Lease::active() }).await;
    append_line(&db.pool, old_lease).await;
    let recent_lease =
        lease(&db.pool, Lease { status: "expired", stop_reason: Some("expired"), ..Lease::active() }).await;
    set_ended(&db.pool, "leases", "lease_id", recent_lease, recent).await;
    let live_lease = lease(&db.pool, Lease { owner: Some(owner), ..Lease::active() }).await;
    let (old_lease_op, recent_lease_op, live_lease_op) = (
        lease_op(&db.pool, old_lease).await,
        lease_op(&db.pool, recent_lease).await,
        lease_op(&db.pool, live_lease).await,
    );
    // A call still waiting, queued long ago (no worker for months): retention never takes it.
    let waiting = op(&db.pool, "list_nodes", "queued", None).await;
    sqlx::query("UPDATE operations SET created_at = now() - interval '200 days' WHERE op_id = $1")
        .bind(waiting.0)
        .execute(&db.pool)
        .await
        .unwrap();

    let report = reaper(&db.pool).run_once(now).await.unwrap();
    assert_eq!(report.leases_deleted, 1);
    // The old op and the old lease's op (its lease went first, in the same sweep).
    assert_eq!(report.operations_deleted, 2);
    let exists = |table: &'static str, key: &'static str, id: uuid::Uuid| {
        let pool = db.pool.clone();
        async move {
            sqlx::query_scalar::<_, bool>(sqlx::AssertSqlSafe(format!(
                "SELECT EXISTS (SELECT 1 FROM {table} WHERE {key} = $1)"
            )))
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    assert!(!exists("operations", "op_id", old_op.0).await);
    assert!(!exists("operation_events", "op_id", old_op.0).await, "events go with their operation");
    assert!(!exists("leases", "lease_id", old_lease).await);
    assert!(!exists("lease_logs", "lease_id", old_lease).await, "logs go with their lease");
    assert!(!exists("operations", "op_id", old_lease_op.0).await);
    for (id, why) in [
        (running_op, "still running"),
        (recent_op, "recent"),
        (recent_lease_op, "its lease is kept"),
        (live_lease_op, "its lease is live"),
    ] {
        assert!(exists("operations", "op_id", id.0).await, "{why}");
    }
    assert!(exists("leases", "lease_id", recent_lease).await);
    assert!(exists("leases", "lease_id", live_lease).await);
    assert_eq!(op_state(&db.pool, waiting).await.0, "queued");
    // Nothing left to do at the same time.
    let again = reaper(&db.pool).run_once(now).await.unwrap();
    assert_eq!((again.leases_deleted, again.operations_deleted), (0, 0));
}

#[tokio::test]
async fn retention_forgets_rate_limit_rows_of_idle_actors_only() {
    let db = TestDb::new().await.unwrap();
    for (actor, tat) in [("idle", "now() - interval '2 hours'"), ("busy", "now() + interval '30 seconds'")] {
        sqlx::query(sqlx::AssertSqlSafe(format!("INSERT INTO rate_limits (actor, tat) VALUES ($1, {tat})")))
            .bind(actor)
            .execute(&db.pool)
            .await
            .unwrap();
    }
    let report = reaper(&db.pool).run_once(Utc::now()).await.unwrap();
    assert_eq!(report.rate_limits_deleted, 1);
    let left: Vec<String> =
        sqlx::query_scalar("SELECT actor FROM rate_limits ORDER BY actor").fetch_all(&db.pool).await.unwrap();
    assert_eq!(left, ["busy"], "an actor whose allowance is in use keeps its row");
}
