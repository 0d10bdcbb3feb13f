//! Upgrading in place: a database written by the release that queued with apalis-postgres — calls
//! waiting in its queue and one left `running` by a worker that died — is migrated by the `mtcp`
//! binary, and the new workers finish every call. The fixture is a `pg_dump` of a database that
//! release's gateway filled (`tests/fixtures/upgrade/`).

use std::time::{Duration, Instant};

use mtcp_tests::process::binary;
use mtcp_tests::{Stack, StackOptions, TestDb};

const DUMP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/upgrade/before_operations_are_jobs.sql");

/// (tool, lane, mutating, max_attempts) of an operation that carries a job.
type CarriedJob = (String, Option<String>, Option<bool>, Option<i32>);

#[tokio::test]
async fn a_database_of_the_previous_release_upgrades_and_its_queued_and_running_calls_finish() {
    let db = TestDb::unmigrated().await.unwrap();
    let restored = std::process::Command::new("psql")
        .args(["--quiet", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "--dbname", &db.url, "-f", DUMP])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("psql runs");
    assert!(restored.success(), "restoring the previous release's database");
    let before: Vec<(String, String)> =
        sqlx::query_as("SELECT tool, status FROM operations ORDER BY created_at").fetch_all(&db.pool).await.unwrap();
    assert_eq!(
        before,
        [("list_nodes", "queued"), ("list_roles", "queued"), ("list_users", "running")]
            .map(|(t, s)| (t.to_owned(), s.to_owned())),
        "the fixture holds two queued calls and one a dead worker was running"
    );

    // The services refuse the old schema until it is migrated.
    assert!(mtcp_shared::db::ensure_migrated(&db.pool).await.is_err());
    let migrated = std::process::Command::new(binary("mtcp"))
        .arg("migrate")
        .env("DATABASE_URL", &db.url)
        .env("MTCP_SERVICE__LOG_LEVEL", "warn")
        .output()
        .expect("mtcp migrate runs");
    assert!(migrated.status.success(), "mtcp migrate: {}", String::from_utf8_lossy(&migrated.stderr));
    mtcp_shared::db::ensure_migrated(&db.pool).await.unwrap();
    let apalis: bool =
        sqlx::query_scalar("SELECT to_regnamespace('apalis') IS NOT NULL").fetch_one(&db.pool).await.unwrap();
    assert!(!apalis, "the old queue's schema is gone");
    let jobs: Vec<CarriedJob> = sqlx::query_as(
        "SELECT tool, lane, mutating, max_attempts FROM operations WHERE payload IS NOT NULL ORDER BY created_at",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(jobs.len(), 3, "every active call carried its job over: {jobs:?}");
    for (tool, lane, mutating, max) in &jobs {
        assert_eq!((lane.as_deref(), *mutating, *max), (Some("tools"), Some(false), Some(3)), "{tool}");
    }

    let mut stack = Stack::start_on(db, StackOptions::default()).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let ended = loop {
        let rows: Vec<(String, String, i32, Option<String>)> =
            sqlx::query_as("SELECT tool, status, attempt, error FROM operations ORDER BY created_at")
                .fetch_all(&stack.db.pool)
                .await
                .unwrap();
        if rows.iter().all(|(_, status, _, _)| status != "queued" && status != "running") || Instant::now() > deadline {
            break rows;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    for (tool, status, attempt, error) in &ended {
        assert_eq!(status, "succeeded", "{tool}: {error:?}");
        let expected = if tool == "list_users" { 2 } else { 1 };
        assert_eq!(*attempt, expected, "{tool}: the read the dead worker ran runs again, once");
    }
    let payloads: i64 = sqlx::query_scalar("SELECT count(*) FROM operations WHERE payload IS NOT NULL")
        .fetch_one(&stack.db.pool)
        .await
        .unwrap();
    assert_eq!(payloads, 0, "ended calls keep no job payload");
    stack.stop().await;
}
