//! `search_audit` and `detect_audit_anomalies`: SQL over the ingested audit events (no CLI run).

use chrono::{Duration, Utc};
use mtcp_shared::db::{self, operations::Outcome};
use mtcp_shared::domain::OpId;
use serde_json::json;

use super::outcome::report;
use crate::JobContext;

/// Whether `tool` is an audit tool.
pub(super) fn handles(tool: &str) -> bool {
    matches!(tool, "search_audit" | "detect_audit_anomalies")
}

/// Run an audit tool over the last `hours` (default 24).
pub(super) async fn run(ctx: &JobContext, tool: &str, args: &serde_json::Value, op_id: OpId) -> Outcome {
    let hours = args.get("hours").and_then(serde_json::Value::as_u64).unwrap_or(24).clamp(1, 720);
    let until = Utc::now();
    let since = until - Duration::hours(hours as i64);
    let progress = |n: u32, message: &str| json!({ "progress": n, "total": 2, "message": message });
    let _ = db::operations::add_progress(&ctx.pool, op_id, &progress(1, "querying audit events")).await;
    let outcome = if tool == "search_audit" {
        db::audit::search(&ctx.pool, since, until).await.map(|s| report(&s))
    } else {
        db::audit::anomalies(&ctx.pool, since, until, &ctx.anomalies).await.map(|r| report(&r))
    };
    let _ = db::operations::add_progress(&ctx.pool, op_id, &progress(2, "done")).await;
    outcome.unwrap_or_else(|e| Outcome::failed(format!("the audit store could not be queried: {e}")))
}
