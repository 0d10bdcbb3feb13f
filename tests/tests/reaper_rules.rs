//! The reaper's rules, each stepped with `run_once(now)` at chosen times over rows inserted
//! directly: lease expiry, offline owners, leases no worker took, recovery of the jobs of offline
//! workers (mutations end `outcome_unknown`, reads go back to the queue) and retention. Every
//! action leaves the record a user would look at: a `system` lease log line or a `state` event.

mod reaper_support;

use chrono::{Duration, Utc};
use mtcp_shared::db;
use mtcp_shared::domain::OpId;
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
    push_job(&db.pool, op, "start_proxy").await;
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
    assert_eq!(job_status(&db.pool, op).await.0, "Killed", "a late worker must not start it");
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
    push_job(&db.pool, lost, "create_access_request").await;
    lock_job(&db.pool, lost, &format!("worker-{dead}"), "Running").await;
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
    assert_eq!(job_status(&db.pool, lost).await.0, "Killed", "no other worker picks it up");
    // A live worker that claims it anyway (a re-enqueue raced) is refused: the op is terminal.
    assert_eq!(
        db::operations::claim(&db.pool, lost, &alive.to_string(), false).await.unwrap(),
        db::operations::Claim::NotRunnable
    );
    assert_eq!(db::operations::get(&db.pool, healthy).await.unwrap().unwrap().status, "running");
}

#[tokio::test]
async fn jobs_of_an_offline_worker_that_may_run_again_go_back_to_the_queue() {
    let db = TestDb::new().await.unwrap();
    let dead = agent(&db.pool, "offline").await;
    let alive = agent(&db.pool, "online").await;
    // A read that was running (under the name of a consumer the worker rebuilt after a database
    // failure), and a mutation still waiting in the dead worker's buffer.
    let read = op(&db.pool, "list_nodes", "running", Some(dead)).await;
    push_job(&db.pool, read, "list_nodes").await;
    lock_job(&db.pool, read, &format!("worker-{dead}-r2"), "Running").await;
    let buffered = op(&db.pool, "create_access_request", "queued", None).await;
    push_job(&db.pool, buffered, "create_access_request").await;
    lock_job(&db.pool, buffered, &format!("worker-{dead}"), "Queued").await;
    // A start on the leases queue the dead worker fetched but never claimed.
    let start = op(&db.pool, "start_proxy", "queued", None).await;
    push_job(&db.pool, start, "start_proxy").await;
    lock_job(&db.pool, start, &format!("leases-{dead}"), "Queued").await;
    // A read of a live worker stays where it is.
    let healthy = op(&db.pool, "list_nodes", "running", Some(alive)).await;
    push_job(&db.pool, healthy, "list_nodes").await;
    lock_job(&db.pool, healthy, &format!("worker-{alive}"), "Running").await;

    let report = reaper(&db.pool).run_once(Utc::now()).await.unwrap();
    assert_eq!(report.jobs_requeued, 3);
    assert_eq!(report.ops_outcome_unknown, 0, "nothing ran that could have taken effect");
    for id in [read, buffered, start] {
        let (status, lock_by, attempts) = job_status(&db.pool, id).await;
        assert_eq!((status.as_str(), lock_by), ("Pending", None));
        assert_eq!(attempts, 1);
        let events = state_events(&db.pool, id).await;
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0]["action"], "requeued");
    }
    assert_eq!(job_status(&db.pool, healthy).await.0, "Running");
    // The next worker's claim re-runs the read (at least once) and starts the never-started ones.
    let next = alive.to_string();
    let started = |c| matches!(c, db::operations::Claim::Started { attempt, .. } if attempt == 2);
    assert!(started(db::operations::claim(&db.pool, read, &next, true).await.unwrap()));
    let first = db::operations::claim(&db.pool, buffered, &next, false).await.unwrap();
    assert!(matches!(first, db::operations::Claim::Started { attempt: 1, .. }), "{first:?}");
}

#[tokio::test]
async fn jobs_of_silent_apalis_workers_are_requeued_on_both_queues_without_a_live_worker() {
    let db = TestDb::new().await.unwrap();
    // Workers the agents table does not know (or whose agent row is still online): apalis' own
    // heartbeat rule applies, run by the reaper for each queue.
    let mut ids = Vec::new();
    for (queue, tool) in [(db::jobs::TOOLS_QUEUE, "list_nodes"), (db::jobs::LEASES_QUEUE, "start_proxy")] {
        let id = op(&db.pool, tool, "queued", None).await;
        push_job(&db.pool, id, tool).await;
        let name = format!("gone-{queue}");
        apalis_worker(&db.pool, &name, queue, Duration::hours(1)).await;
        lock_job(&db.pool, id, &name, "Running").await;
        ids.push(id);
    }
    let report = reaper_with(&db.pool, Default::default()).run_once(Utc::now()).await.unwrap();
    assert_eq!(report.stale_jobs_requeued, 2);
    for id in ids {
        assert_eq!(job_status(&db.pool, id).await.0, "Pending");
    }
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
    // apalis rows: finished long ago (deleted), finished recently, failed with attempts left,
    // failed for good, and waiting.
    let jobs = [
        ("Done", 1, 3, now - Duration::days(95), false),
        ("Killed", 1, 1, now - Duration::days(95), false),
        ("Failed", 3, 3, now - Duration::days(95), false),
        ("Done", 1, 3, recent, true),
        ("Failed", 1, 3, now - Duration::days(95), true),
    ];
    let mut job_ops = Vec::new();
    for (status, attempts, max, done_at, _) in jobs {
        let id = op(&db.pool, "list_nodes", "queued", None).await;
        push_job(&db.pool, id, "list_nodes").await;
        finish_job(&db.pool, id, status, attempts, max, done_at).await;
        job_ops.push(id);
    }
    let pending = op(&db.pool, "list_nodes", "queued", None).await;
    push_job(&db.pool, pending, "list_nodes").await;

    let report = reaper(&db.pool).run_once(now).await.unwrap();
    assert_eq!(report.leases_deleted, 1);
    assert_eq!(report.jobs_deleted, 3);
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
    for ((status, _, _, _, kept), id) in jobs.iter().zip(&job_ops) {
        let left: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM apalis.jobs WHERE id = $1)")
            .bind(id.job_id())
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(left, *kept, "{status} job");
    }
    assert_eq!(job_status(&db.pool, pending).await.0, "Pending");
    // Nothing left to do at the same time.
    let again = reaper(&db.pool).run_once(now).await.unwrap();
    assert_eq!((again.leases_deleted, again.operations_deleted, again.jobs_deleted), (0, 0, 0));
}

#[tokio::test]
async fn the_sql_job_id_of_an_operation_is_its_apalis_job_id() {
    let db = TestDb::new().await.unwrap();
    for _ in 0..200 {
        let id = OpId::generate();
        let sql: String = sqlx::query_scalar("SELECT mtcp_job_id($1)").bind(id.0).fetch_one(&db.pool).await.unwrap();
        assert_eq!(sql, id.job_id());
    }
    for id in [uuid::Uuid::nil(), uuid::Uuid::max(), uuid::Uuid::new_v4()] {
        let sql: String = sqlx::query_scalar("SELECT mtcp_job_id($1)").bind(id).fetch_one(&db.pool).await.unwrap();
        assert_eq!(sql, OpId(id).job_id());
    }
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
