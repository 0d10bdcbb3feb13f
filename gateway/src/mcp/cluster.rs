//! The cluster a call runs on — its `cluster` argument, checked against the configuration, or the
//! default — and `list_clusters`.

use mtcp_shared::analysis::health::{HealthCheck, HealthReport};
use mtcp_shared::config::Config;
use mtcp_shared::db;
use mtcp_shared::db::operations::NewOperation;
use mtcp_shared::domain::{Actor, ToolSpec, quoted};
use mtcp_shared::tools::cluster::{ClusterArg, ClusterList, ClusterView, LastCall};
use rmcp::model::{CallToolResponse, JsonObject};
use serde_json::Value;

use crate::state::AppState;

use super::answer::{error_text, structured, to_json, with_op_id};

/// Longest cluster name echoed back in an error.
const ECHO: usize = 64;

/// The cluster of a call of `spec`: `None` for a tool that runs on none. A tool's own arguments
/// keep the `cluster` of a tool that filters by it; for any other it is taken out (it says where
/// the call runs, the tool never sees it). An unknown name is an error naming the configured ones.
pub(super) fn take(config: &Config, spec: &ToolSpec, args: &mut JsonObject) -> Result<Option<String>, String> {
    let given = match ClusterArg::of(spec.tool) {
        ClusterArg::None => return Ok(None),
        ClusterArg::Runs => args.remove("cluster"),
        ClusterArg::Filters => args.get("cluster").cloned(),
    };
    let name = match given {
        None | Some(Value::Null) => return Ok(Some(config.default_cluster())),
        Some(Value::String(name)) => name,
        Some(_) => return Err("`cluster` must be a string: the name of a cluster list_clusters shows".into()),
    };
    if !config.has_cluster(&name) {
        return Err(format!(
            "`cluster`: no cluster {} is configured; the clusters are {} (list_clusters shows those you may use)",
            quoted(&name, ECHO),
            config.cluster_names()
        ));
    }
    Ok(Some(name))
}

/// `list_clusters`: the clusters the caller's role may use, with what the workers and the trail
/// say about each.
pub(super) async fn list(st: &AppState, actor: &Actor) -> Result<ClusterList, String> {
    let policy = st.policy.load_full();
    let allowed = policy.clusters_of(&actor.role).unwrap_or_default();
    let clusters: Vec<_> =
        st.config.clusters().into_iter().filter(|c| allowed.is_empty() || allowed.contains(&c.name)).collect();
    let default = st.config.default_cluster();
    let names: Vec<String> = clusters.iter().map(|c| c.name.clone()).collect();
    let status = db::clusters::status(&st.pool, &names, &default).await.map_err(|e| {
        tracing::error!(error = %e, "reading the clusters' state");
        "the operation store is unavailable; try again".to_owned()
    })?;
    let clusters = clusters
        .into_iter()
        .zip(status)
        .map(|(c, s)| ClusterView {
            teleport_name: c.teleport_name().to_owned(),
            default: c.name == default,
            leaf: c.leaf,
            workers_online: s.workers_online,
            reachable: s.workers_online > 0 && s.last.as_ref().is_none_or(answered),
            queued: s.queued,
            last_call: s.last.map(|l| LastCall {
                tool: l.tool,
                status: l.status,
                ended_at: l.ended_at,
                error: l.error,
            }),
            name: c.name,
        })
        .collect();
    Ok(ClusterList { default_cluster: default, clusters })
}

/// Whether Teleport answered a call that ran: it succeeded, or Teleport itself refused it or found
/// nothing (its words are in the error). A timeout, a CLI that could not start or any other
/// failure leaves the cluster's reachability in doubt.
fn answered(last: &db::clusters::LastRun) -> bool {
    let error = last.error.as_deref().unwrap_or_default();
    last.status == "succeeded" || error.starts_with("Teleport refused") || error.starts_with("Not found in Teleport")
}

/// `run_health_check` on a cluster no worker serves: the answer the gateway gives itself, since the
/// check would otherwise wait in the queue with the cluster's other calls. `None`: a worker serves it.
/// A worker that is starting registers within moments, so the answer waits two worker heartbeats
/// (at least 5 s, within half the call budget) for one before saying there is none.
pub(super) async fn unserved_health(st: &AppState, cluster: &str) -> Result<Option<HealthReport>, db::DbError> {
    let default = st.config.default_cluster();
    let grace = (st.config.worker.heartbeat_interval * 2)
        .max(std::time::Duration::from_secs(5))
        .min(st.config.service.call_budget / 2);
    let started = std::time::Instant::now();
    let s = loop {
        let status = db::clusters::status(&st.pool, &[cluster.to_owned()], &default).await?;
        match status.into_iter().next() {
            Some(s) if s.workers_online == 0 && started.elapsed() >= grace => break s,
            Some(s) if s.workers_online == 0 => tokio::time::sleep(std::time::Duration::from_millis(200)).await,
            _ => return Ok(None),
        }
    };
    let check = HealthCheck::fail(
        "CP-WORKERS",
        format!("Workers serving cluster {cluster}"),
        format!(
            "no worker serving cluster {cluster:?} is online: its calls wait in the queue until one is ({} waiting \
             now). Start a worker whose `worker.clusters` includes {cluster:?} (or lists none).",
            s.queued
        ),
    );
    Ok(Some(HealthReport::from_checks(vec![check])))
}

/// `run_health_check` on a cluster no worker serves is answered here, saying so, and recorded.
pub(super) async fn answer_unserved_health(
    st: &AppState,
    op: &NewOperation<'_>,
    cluster: &str,
) -> Option<(&'static str, CallToolResponse)> {
    let report = match unserved_health(st, cluster).await {
        Ok(report) => report?,
        Err(e) => {
            tracing::warn!(error = %e, "looking for the workers of a cluster");
            return None;
        }
    };
    let value = to_json(report);
    Some(match db::operations::insert_answered(&st.pool, op, &value).await {
        Ok(()) => ("succeeded", with_op_id(structured(op.tool, op.op_id, value), op.op_id).into()),
        Err(e) => {
            tracing::error!(error = %e, "recording an answered call");
            ("error", error_text("the operation store is unavailable; try again".into()).into())
        }
    })
}
