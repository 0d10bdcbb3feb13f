//! `search_audit` and `detect_audit_anomalies`: SQL over the ingested audit events, of the job's
//! cluster when the call names one, else of every cluster. Auth preference changes found by
//! `detect_audit_anomalies` are judged against the current `cluster_auth_preference` of the job's
//! cluster, read through its runner (Teleport's event carries no settings).

use chrono::{Duration, Utc};
use mtcp_shared::analysis::audit::{
    self, AnomalyReport, CurrentAuthPreference, judge_auth_preference_changes, needs_auth_preference,
};
use mtcp_shared::db::{self, operations::Outcome};
use mtcp_shared::domain::OpId;
use mtcp_shared::teleport::fetch;
use mtcp_shared::tools::AuditWindowArgs;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::outcome::report;
use crate::JobContext;

/// What an audit job looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Audit {
    /// `search_audit`: counts and histograms.
    Summary,
    /// `detect_audit_anomalies`: findings.
    Anomalies,
}

/// Run an audit tool over the last `hours` (default 24). A `cluster` argument filters on this
/// context's cluster: the gateway routes such a call to the named cluster's worker.
pub(super) async fn run(
    ctx: &JobContext,
    which: Audit,
    args: &AuditWindowArgs,
    op_id: OpId,
    cancel: &CancellationToken,
) -> Outcome {
    let cluster = match args.cluster.as_deref() {
        None => None,
        Some(name) if name == ctx.cluster.name => Some(&ctx.cluster),
        // A misrouted job: filtering on this context's cluster would answer for the wrong one.
        Some(name) => {
            return Outcome::failed(format!(
                "the audit job for cluster `{name}` reached the worker context of cluster `{}`",
                ctx.cluster.name
            ));
        }
    };
    let hours = args.hours.unwrap_or(24).clamp(1, 720);
    let until = Utc::now();
    let since = until - Duration::hours(i64::from(hours));
    let progress = |n: u32, message: &str| json!({ "progress": n, "total": 2, "message": message });
    let _ = db::operations::add_progress(&ctx.pool, op_id, &progress(1, "querying audit events")).await;
    let outcome = if which == Audit::Summary {
        audit::search(&ctx.pool, since, until, cluster).await.map(|s| report(&s))
    } else {
        match audit::anomalies(&ctx.pool, since, until, cluster, &ctx.anomalies).await {
            Ok(mut r) => {
                judge_auth_preference(ctx, &mut r, cancel).await;
                Ok(report(&r))
            }
            Err(e) => Err(e),
        }
    };
    let _ = db::operations::add_progress(&ctx.pool, op_id, &progress(2, "done")).await;
    outcome.unwrap_or_else(|e| Outcome::failed(format!("the audit store could not be queried: {e}")))
}

/// Read the current auth preference only when the window holds auth preference changes.
async fn judge_auth_preference(ctx: &JobContext, r: &mut AnomalyReport, cancel: &CancellationToken) {
    if !needs_auth_preference(r) {
        return;
    }
    match fetch::auth_preference(&ctx.runner, cancel).await {
        Ok(current) => judge_auth_preference_changes(r, CurrentAuthPreference::Read(&current.spec)),
        Err(failure) => {
            let why = failure.to_string();
            judge_auth_preference_changes(r, CurrentAuthPreference::Unavailable(&why));
        }
    }
}
