//! Rows for the reaper's tests, inserted directly (agents, operations with their jobs, leases) in
//! the states the rules act on, and readers for what the rules leave behind.

// Each test target that includes this module uses a different subset of it.
#![allow(dead_code)]

use chrono::{DateTime, Duration, Utc};
use mtcp_shared::db;
use mtcp_shared::domain::{OpId, ToolJob, find_tool};
use sqlx::PgPool;
use uuid::Uuid;

/// A reaper with default settings except that agents never go offline by silence: tests move the
/// clock forward by hours and mark agents offline themselves.
pub fn reaper(pool: &PgPool) -> mtcp_reaper::Reaper {
    let settings = mtcp_shared::config::ReaperConfig {
        agent_offline_after: std::time::Duration::from_secs(1000 * 24 * 3600),
        ..Default::default()
    };
    reaper_with(pool, settings)
}

/// A reaper with these settings.
pub fn reaper_with(pool: &PgPool, settings: mtcp_shared::config::ReaperConfig) -> mtcp_reaper::Reaper {
    mtcp_reaper::Reaper::new(pool.clone(), settings, std::time::Duration::from_secs(90 * 24 * 3600))
}

/// A worker incarnation, `online` or `offline`, on host `host-<id>`.
pub async fn agent(pool: &PgPool, status: &str) -> Uuid {
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO agents (agent_id, kind, host, boot_id, pid, version, status, offline_at)
         VALUES ($1, 'worker', 'host-' || $1, 'b', 1, 'v', $2, CASE WHEN $2 = 'offline' THEN now() END)",
    )
    .bind(id)
    .bind(status)
    .execute(pool)
    .await
    .unwrap();
    id
}

/// An operation of `tool` in `status`, with its job while active (as the gateway enqueues it);
/// `running` ones run under `worker` (attempt 1).
pub async fn op(pool: &PgPool, tool: &str, status: &str, worker: Option<Uuid>) -> OpId {
    let id = OpId::generate();
    let worker = worker.unwrap_or_else(Uuid::new_v4).to_string();
    let mutating = find_tool(tool).unwrap().mutating;
    let job = job(id, tool);
    sqlx::query(
        "INSERT INTO operations (op_id, actor, actor_role, capability, tool, decision, status, attempt, worker_id,
                                 started_at, ended_at, result, error, lane, payload, mutating, run_after, max_attempts)
         VALUES ($1, 'alice', 'operator', 'test', $2, '{}', $3,
                 CASE WHEN $3 IN ('queued', 'denied') THEN 0 ELSE 1 END,
                 CASE WHEN $3 IN ('queued', 'denied') THEN NULL ELSE $4 END,
                 CASE WHEN $3 IN ('queued', 'denied') THEN NULL ELSE now() END,
                 CASE WHEN $3 IN ('queued', 'running') THEN NULL ELSE now() END,
                 CASE WHEN $3 = 'succeeded' THEN '{}'::jsonb END,
                 CASE WHEN $3 = 'failed' THEN 'it failed' END,
                 $5, CASE WHEN $3 IN ('queued', 'running') THEN $6::jsonb END, $7, now(), $8)",
    )
    .bind(id.0)
    .bind(tool)
    .bind(status)
    .bind(worker)
    .bind(db::queue::Lane::of(&job).as_str())
    .bind(serde_json::to_value(&job).unwrap())
    .bind(mutating)
    .bind(db::queue::max_attempts(mutating))
    .execute(pool)
    .await
    .unwrap();
    id
}

/// The job of an operation of `tool` with valid arguments, as the gateway enqueues it.
pub fn job(id: OpId, tool: &str) -> ToolJob {
    let args = match tool {
        "start_proxy" => serde_json::json!({ "kind": "vnet", "reason": "test" }),
        "create_access_request" => serde_json::json!({ "resources": ["access"], "reason": "test" }),
        _ => serde_json::json!({}),
    };
    let spec = find_tool(tool).unwrap();
    let call = mtcp_shared::tools::validate(spec, args.as_object().unwrap().clone()).unwrap().call;
    ToolJob { op_id: id, call, actor: "alice".into(), cluster: None, traceparent: None }
}

/// A lease to insert.
#[derive(Debug, Clone, Copy)]
pub struct Lease {
    pub owner: Option<Uuid>,
    pub status: &'static str,
    pub stop_reason: Option<&'static str>,
    pub expires_in: Duration,
    /// Status of its `start_proxy` operation.
    pub op_status: &'static str,
}

impl Lease {
    /// Active (give it an owner), its start succeeded, one hour left.
    pub fn active() -> Self {
        Self {
            owner: None,
            status: "active",
            stop_reason: None,
            expires_in: Duration::hours(1),
            op_status: "succeeded",
        }
    }

    /// No worker took it: its start is still queued.
    pub fn unowned(status: &'static str) -> Self {
        Self { status, op_status: "queued", ..Self::active() }
    }
}

/// Insert a lease and its start operation; ended statuses end now.
pub async fn lease(pool: &PgPool, l: Lease) -> Uuid {
    let op_id = op(pool, "start_proxy", l.op_status, None).await;
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO leases (lease_id, op_id, kind, actor, target, agent_id, host, pid, expires_at, status, stop_reason,
                             ended_at)
         VALUES ($1, $2, 'proxy_app', 'alice', '{\"app\":\"grafana\"}', $3,
                 CASE WHEN $3 IS NOT NULL THEN 'host-' || $3 END, CASE WHEN $3 IS NOT NULL THEN 4242 END,
                 now() + $4, $5, $6, CASE WHEN $5 IN ('stopped', 'expired', 'failed') THEN now() END)",
    )
    .bind(id)
    .bind(op_id.0)
    .bind(l.owner)
    .bind(l.expires_in)
    .bind(l.status)
    .bind(l.stop_reason)
    .execute(pool)
    .await
    .unwrap();
    id
}

/// The start operation of a lease.
pub async fn lease_op(pool: &PgPool, lease: Uuid) -> OpId {
    OpId(sqlx::query_scalar("SELECT op_id FROM leases WHERE lease_id = $1").bind(lease).fetch_one(pool).await.unwrap())
}

/// (status, stop_reason) of a lease.
pub async fn lease_state(pool: &PgPool, id: Uuid) -> (String, Option<String>) {
    sqlx::query_as("SELECT status, stop_reason FROM leases WHERE lease_id = $1").bind(id).fetch_one(pool).await.unwrap()
}

/// The `system` lines of a lease, oldest first.
pub async fn system_lines(pool: &PgPool, id: Uuid) -> Vec<String> {
    sqlx::query_scalar("SELECT line FROM lease_logs WHERE lease_id = $1 AND stream = 'system' ORDER BY seq")
        .bind(id)
        .fetch_all(pool)
        .await
        .unwrap()
}

/// The `state` events of an operation, oldest first.
pub async fn state_events(pool: &PgPool, id: OpId) -> Vec<serde_json::Value> {
    sqlx::query_scalar("SELECT payload FROM operation_events WHERE op_id = $1 AND kind = 'state' ORDER BY seq")
        .bind(id.0)
        .fetch_all(pool)
        .await
        .unwrap()
}

/// (status, worker_id, attempt) of an operation.
pub async fn op_state(pool: &PgPool, id: OpId) -> (String, Option<String>, i32) {
    sqlx::query_as("SELECT status, worker_id, attempt FROM operations WHERE op_id = $1")
        .bind(id.0)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// A progress event, as a worker records it.
pub async fn add_event(pool: &PgPool, id: OpId) {
    db::operations::add_progress(pool, id, &serde_json::json!({ "step": 1 })).await.unwrap();
}

/// A log line, as an owner records it.
pub async fn append_line(pool: &PgPool, lease: Uuid) {
    let mut conn = pool.acquire().await.unwrap();
    db::leases::append_logs(&mut conn, lease, &[("stdout".into(), "listening".into())], 500).await.unwrap();
}

/// Move a row's end time.
pub async fn set_ended(pool: &PgPool, table: &str, key: &str, id: Uuid, at: DateTime<Utc>) {
    sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE {table} SET ended_at = $2 WHERE {key} = $1")))
        .bind(id)
        .bind(at)
        .execute(pool)
        .await
        .unwrap();
}
