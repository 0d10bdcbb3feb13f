//! The apalis queues (`tools`, and `leases` for lease starts): pushing tool jobs inside the
//! caller's transaction, their depth, and releasing the jobs of a failed consumer.

use apalis::prelude::TaskBuilder;
use apalis_postgres::PgTask;
use sqlx::PgConnection;

use super::DbError;
use crate::domain::ToolJob;

/// Queue of short tool jobs.
pub const TOOLS_QUEUE: &str = "tools";
/// Queue of lease starts: a start waits for a process to come up, so it never takes a tool slot.
pub const LEASES_QUEUE: &str = "leases";

/// The queue a tool's jobs go to.
pub fn queue_of(tool: &str) -> &'static str {
    if tool == crate::domain::ToolName::StartProxy.as_str() { LEASES_QUEUE } else { TOOLS_QUEUE }
}

/// Push the job of an operation; its apalis id is the operation id in ULID form. Mutating jobs get
/// a single attempt: a mutation is never retried blindly.
pub async fn push_tool_job(conn: &mut PgConnection, job: &ToolJob, mutating: bool) -> Result<(), DbError> {
    let payload = serde_json::to_vec(job).map_err(|e| DbError::Queue(e.to_string()))?;
    let task: PgTask = TaskBuilder::new(payload)
        .task_id(apalis::prelude::TaskId::from_ulid(ulid::Ulid::from(job.op_id.0)))
        .max_attempts(if mutating { 1 } else { 3 })
        .build();
    apalis_postgres::queries::push_tasks(conn, queue_of(job.tool_name()), vec![task])
        .await
        .map_err(|e| DbError::Queue(e.to_string()))
}

/// Jobs waiting on `queue` ([`TOOLS_QUEUE`] or [`LEASES_QUEUE`]), for metrics and health checks.
pub async fn queue_depth(pool: &sqlx::PgPool, queue: &str) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM apalis.jobs WHERE job_type = $1 AND status IN ('Pending', 'Queued')")
        .bind(queue)
        .fetch_one(pool)
        .await?)
}

/// Put back the jobs the apalis worker `worker_name` still holds (see
/// `sql/release_held_jobs.sql`); only for a consumer of this process that failed and whose started
/// jobs have all ended. Returns how many jobs went back.
pub async fn release_held(pool: &sqlx::PgPool, worker_name: &str) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(include_str!("sql/release_held_jobs.sql")).bind(worker_name).fetch_one(pool).await?)
}
