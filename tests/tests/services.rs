//! Service behaviour outside the MCP surface: migrations gate, health and readiness, agents and
//! the reaper's leadership and offline sweep.

use std::time::Duration;

use mtcp_shared::config::Config;
use mtcp_tests::{Stack, StackOptions, TestDb};
use secrecy::SecretString;

#[tokio::test]
async fn services_refuse_an_unmigrated_database_and_say_what_to_run() {
    let db = TestDb::unmigrated().await.unwrap();
    let mut config = Config::default();
    config.database.url = Some(SecretString::from(db.url.clone()));
    config.service.port = 0;
    let err = mtcp_gateway::Application::build(config.clone(), Default::default()).await.err().unwrap();
    assert!(format!("{err:#}").contains("mtcp migrate"), "{err:#}");
    let err = mtcp_worker::run(config, Default::default()).await.unwrap_err();
    assert!(format!("{err:#}").contains("mtcp migrate"), "{err:#}");
}

#[tokio::test]
async fn health_ready_and_metrics_answer() {
    let mut stack = Stack::start(StackOptions::default()).await.unwrap();
    let http = reqwest::Client::new();
    for path in ["/health", "/ready"] {
        let r = http.get(format!("{}{path}", stack.base)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }
    // The answer the seed's quick start shows for `curl http://localhost:8000/health`.
    let health: serde_json::Value =
        http.get(format!("{}/health", stack.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(health, serde_json::json!({ "status": "healthy" }));
    let admin = stack.client("admin").await.unwrap();
    admin.call("list_nodes", serde_json::json!({})).await.unwrap();
    let metrics = http.get(format!("{}/metrics", stack.base)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("mtcp_tool_calls_total"), "{metrics}");
    assert!(metrics.contains(r#"tool="list_nodes""#));
    // CLI runs are labelled by command words only: never paths, addresses or arguments.
    assert!(metrics.contains(r#"subcommand="get nodes""#), "{metrics}");
    assert!(!metrics.contains("sim-identity"), "a path leaked into a label");
    stack.stop().await;
}

#[tokio::test]
async fn the_worker_registers_and_heartbeats_and_deregisters_on_stop() {
    let mut stack = Stack::start(StackOptions::default()).await.unwrap();
    let pool = stack.db.pool.clone();
    let mut online = 0i64;
    for _ in 0..50 {
        online = sqlx::query_scalar("SELECT count(*) FROM agents WHERE status = 'online' AND kind = 'worker'")
            .fetch_one(&pool)
            .await
            .unwrap();
        if online == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(online, 1);
    stack.stop().await;
    let offline: i64 =
        sqlx::query_scalar("SELECT count(*) FROM agents WHERE status = 'offline'").fetch_one(&pool).await.unwrap();
    assert_eq!(offline, 1, "a clean stop marks the incarnation offline");
}

#[tokio::test]
async fn the_reaper_marks_silent_agents_offline_and_only_them() {
    let db = TestDb::new().await.unwrap();
    let now = chrono::Utc::now();
    for (id, age) in [(uuid::Uuid::new_v4(), 120), (uuid::Uuid::new_v4(), 2)] {
        sqlx::query(
            "INSERT INTO agents (agent_id, kind, host, boot_id, pid, version, last_heartbeat_at)
             VALUES ($1, 'worker', 'h', 'b', 1, 'v', $2)",
        )
        .bind(id)
        .bind(now - chrono::Duration::seconds(age))
        .execute(&db.pool)
        .await
        .unwrap();
    }
    let settings =
        mtcp_shared::config::ReaperConfig { agent_offline_after: Duration::from_secs(30), ..Default::default() };
    let reaper = mtcp_reaper::Reaper::new(db.pool.clone(), settings, Duration::from_secs(90 * 24 * 3600));
    let report = reaper.run_once(now).await.unwrap();
    assert_eq!(report.agents_marked_offline, 1);
    // Idempotent: a second sweep at the same time does nothing more.
    assert_eq!(reaper.run_once(now).await.unwrap().agents_marked_offline, 0);
    let online: i64 =
        sqlx::query_scalar("SELECT count(*) FROM agents WHERE status = 'online'").fetch_one(&db.pool).await.unwrap();
    assert_eq!(online, 1);
}

#[tokio::test]
async fn only_one_reaper_holds_leadership_at_a_time() {
    use mtcp_shared::db::leader::{REAPER_LOCK_KEY, release, still_held, try_acquire};
    let db = TestDb::new().await.unwrap();
    let mut a = db.pool.acquire().await.unwrap();
    let mut b = db.pool.acquire().await.unwrap();
    assert!(try_acquire(&mut a, REAPER_LOCK_KEY).await.unwrap());
    assert!(!try_acquire(&mut b, REAPER_LOCK_KEY).await.unwrap());
    assert!(still_held(&mut a, REAPER_LOCK_KEY).await.unwrap());
    assert!(!still_held(&mut b, REAPER_LOCK_KEY).await.unwrap());
    release(&mut a, REAPER_LOCK_KEY).await.unwrap();
    assert!(try_acquire(&mut b, REAPER_LOCK_KEY).await.unwrap());
}
