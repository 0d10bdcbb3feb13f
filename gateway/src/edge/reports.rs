//! What an edge agent reports about its leases' processes: started (the lease becomes active and
//! its `start_proxy` call succeeds), failed, ended, and their log lines.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::Utc;
use mtcp_shared::db::leases::LeaseEnd;
use mtcp_shared::db::operations::Outcome;
use mtcp_shared::db::{self, DbError};
use mtcp_shared::domain::{LeaseStatus, OpId, OperationStatus};
use mtcp_shared::edge::{EndReason, Ended, Failed, LogBatch, Started};
use mtcp_shared::leases::LeaseView;
use mtcp_shared::redact::redact_text;
use serde_json::Value;
use uuid::Uuid;

use super::{EdgeCaller, EdgeError, current, owned, reporting};
use crate::state::AppState;

/// Longest line kept from an agent (longer ones are cut).
const MAX_LINE: usize = 4096;

async fn lease(st: &AppState, lease_id: Uuid) -> Result<db::leases::LeaseRow, EdgeError> {
    db::leases::get(&st.pool, lease_id).await?.ok_or_else(|| EdgeError::Bad(format!("no lease {lease_id}")))
}

async fn system_line(st: &AppState, lease_id: Uuid, line: String) -> Result<(), DbError> {
    let mut conn = st.pool.acquire().await?;
    let keep = i64::from(st.config.leases.log_lines_kept);
    db::leases::append_logs(&mut conn, lease_id, &[("system".to_owned(), redact_text(&line))], keep).await
}

/// `POST /edge/v1/leases/{lease_id}/started`.
pub(super) async fn started(
    State(st): State<AppState>,
    caller: EdgeCaller,
    Path(lease_id): Path<Uuid>,
    Json(s): Json<Started>,
) -> Result<StatusCode, EdgeError> {
    let host = reporting(&st, &caller, s.agent_id, lease_id).await?;
    let start_time = s.pid_start_time.and_then(|t| i64::try_from(t).ok());
    let addr = redact_text(&s.listen_addr);
    let active =
        db::leases::activate(&st.pool, lease_id, s.agent_id, &host, s.pid.max(1), start_time, Some(&addr)).await?;
    let row = lease(&st, lease_id).await?;
    let outcome = if active {
        system_line(&st, lease_id, format!("started on edge agent {} ({host}), listening on {addr}", caller.name))
            .await?;
        success(LeaseView::of(row.clone(), Utc::now()), s.kubeconfig, &caller.name, &host)
    } else {
        // Stopped while it started: the agent hears it in its next poll and stops the process.
        Outcome::cancelled(format!("the lease was {} before its process was up", row.status.as_str()))
    };
    db::operations::finish(&st.pool, OpId(row.op_id), &s.agent_id.to_string(), &outcome, &[]).await?;
    tracing::info!(edge_agent = %caller.name, %lease_id, active, "edge lease started");
    Ok(StatusCode::NO_CONTENT)
}

fn success(view: LeaseView, kubeconfig: Option<String>, agent: &str, host: &str) -> Outcome {
    let mut result = serde_json::to_value(view).expect("a lease view serializes");
    mtcp_shared::redact::redact_json(&mut result);
    if let Some(map) = result.as_object_mut() {
        let usage = match kubeconfig {
            Some(path) => {
                map.insert("kubeconfig".into(), Value::String(redact_text(&path)));
                format!("on {host} (edge agent {agent}) only: run consumers with KUBECONFIG set to this file")
            }
            None => format!("the address is on {host}, the machine of edge agent {agent}: connect from there"),
        };
        map.insert("usage".into(), Value::String(usage));
    }
    Outcome { status: OperationStatus::Succeeded, result: Some(result), error: None, ..Outcome::failed("") }
}

/// `POST /edge/v1/leases/{lease_id}/failed`.
pub(super) async fn failed(
    State(st): State<AppState>,
    caller: EdgeCaller,
    Path(lease_id): Path<Uuid>,
    Json(f): Json<Failed>,
) -> Result<StatusCode, EdgeError> {
    reporting(&st, &caller, f.agent_id, lease_id).await?;
    let error: String = redact_text(&f.error).chars().take(MAX_LINE).collect();
    db::leases::end(&st.pool, lease_id, LeaseEnd::Failed, "start_failed", None).await?;
    system_line(&st, lease_id, format!("start failed on edge agent {}: {error}", caller.name)).await?;
    let row = lease(&st, lease_id).await?;
    let outcome =
        // The agent relays tsh's words: cluster text, shown in a marked section.
        Outcome::failed(format!(
            "the {} proxy did not start on edge agent {}; its report:{}",
            row.kind,
            caller.name,
            mtcp_shared::tools::untrusted::text_section(&error)
        ));
    db::operations::finish(&st.pool, OpId(row.op_id), &f.agent_id.to_string(), &outcome, &[]).await?;
    tracing::warn!(edge_agent = %caller.name, %lease_id, "edge lease failed to start");
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /edge/v1/leases/{lease_id}/ended`.
pub(super) async fn ended(
    State(st): State<AppState>,
    caller: EdgeCaller,
    Path(lease_id): Path<Uuid>,
    Json(e): Json<Ended>,
) -> Result<StatusCode, EdgeError> {
    reporting(&st, &caller, e.agent_id, lease_id).await?;
    let row = lease(&st, lease_id).await?;
    let asked = row.stop_reason.clone().unwrap_or_default();
    let (how, reason, why) = match e.reason {
        EndReason::Stopped if row.status == LeaseStatus::Stopping && asked == "expired" => {
            (LeaseEnd::Expired, "expired", "the lease expired".to_owned())
        }
        EndReason::Stopped => (LeaseEnd::Stopped, "stop_proxy", "stopped on request".to_owned()),
        EndReason::Expired => {
            (LeaseEnd::Expired, "expired", "the lease expired (stopped by the edge agent)".to_owned())
        }
        EndReason::Exited => (LeaseEnd::Failed, "exited", format!("the process exited by itself ({:?})", e.exit_code)),
        EndReason::FailClosed => (
            LeaseEnd::Failed,
            "fail_closed",
            "the edge agent could not reach the control plane and killed it (fail-closed)".to_owned(),
        ),
    };
    if db::leases::end(&st.pool, lease_id, how, reason, e.exit_code).await? {
        system_line(&st, lease_id, format!("ended on edge agent {}: {why}", caller.name)).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /edge/v1/logs`: redacted again here (the agent's redaction is not trusted).
pub(super) async fn logs(
    State(st): State<AppState>,
    caller: EdgeCaller,
    Json(b): Json<LogBatch>,
) -> Result<StatusCode, EdgeError> {
    current(&st, &caller, b.agent_id).await?;
    let mut by_lease: Vec<(Uuid, Vec<(String, String)>)> = Vec::new();
    for l in b.lines {
        let stream = match l.stream.as_str() {
            "stdout" | "stderr" => l.stream,
            _ => return Err(EdgeError::Bad(format!("stream {:?} is neither stdout nor stderr", l.stream))),
        };
        let line: String = redact_text(&l.line).chars().take(MAX_LINE).collect();
        match by_lease.iter_mut().find(|(id, _)| *id == l.lease_id) {
            Some((_, lines)) => lines.push((stream, line)),
            None => by_lease.push((l.lease_id, vec![(stream, line)])),
        }
    }
    let keep = i64::from(st.config.leases.log_lines_kept);
    let mut conn = st.pool.acquire().await.map_err(DbError::from)?;
    for (lease_id, lines) in by_lease {
        owned(&st, b.agent_id, lease_id).await?;
        db::leases::append_logs(&mut conn, lease_id, &lines, keep).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}
