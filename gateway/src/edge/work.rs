//! Register, the long poll for work, and the heartbeat.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use mtcp_shared::db::leases::{LeaseEnd, Take};
use mtcp_shared::db::operations::Outcome;
use mtcp_shared::db::queue::EDGE_CHANNEL;
use mtcp_shared::db::{self, leases::LEASES_CHANNEL};
use mtcp_shared::domain::{LeaseKind, LeaseTarget};
use mtcp_shared::edge::{Heartbeat, HeartbeatAck, Register, Registered, StartOrder, StopOrder, Work, WorkRequest};
use uuid::Uuid;

use super::{EdgeCaller, EdgeError, current};
use crate::state::AppState;

/// Starts handed out in one answer at most.
const STARTS_PER_POLL: usize = 8;
/// A poll re-reads at least this often, whatever it heard (a notification lost while the LISTEN
/// connection reconnects).
const RECHECK: Duration = Duration::from_secs(2);

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// `POST /edge/v1/register`.
pub(super) async fn register(
    State(st): State<AppState>,
    caller: EdgeCaller,
    Json(r): Json<Register>,
) -> Result<Json<Registered>, EdgeError> {
    let agent_id = Uuid::now_v7();
    let pid = i32::try_from(r.pid).unwrap_or(i32::MAX);
    let mut conn = st.pool.acquire().await.map_err(db::DbError::from)?;
    let ended = db::edge::register(&mut conn, &caller.name, agent_id, &r.host, &r.boot_id, pid, &r.version).await?;
    tracing::info!(edge_agent = %caller.name, %agent_id, host = %r.host, leases_ended = ended, "edge agent registered");
    let e = &st.config.edge;
    Ok(Json(Registered {
        agent_id,
        heartbeat_interval_ms: ms(e.heartbeat(st.config.reaper.agent_offline_after)),
        poll_wait_ms: ms(e.poll_wait),
        fail_closed_after_ms: ms(e.fail_closed_after),
    }))
}

/// `POST /edge/v1/work`: answers as soon as there is something to do, or after `edge.poll_wait`.
pub(super) async fn work(
    State(st): State<AppState>,
    caller: EdgeCaller,
    Json(req): Json<WorkRequest>,
) -> Result<Json<Work>, EdgeError> {
    // Subscribed before the first look: nothing announced in between is missed.
    let (mut starts, mut stops) = (st.notifier.subscribe(EDGE_CHANNEL), st.notifier.subscribe(LEASES_CHANNEL));
    let deadline = tokio::time::Instant::now() + st.config.edge.poll_wait;
    loop {
        let host = current(&st, &caller, req.agent_id).await?;
        let work = collect(&st, &caller.name, req.agent_id, &host).await?;
        if !work.starts.is_empty() || !work.stops.is_empty() {
            return Ok(Json(work));
        }
        tokio::select! {
            _ = starts.recv() => {}
            _ = stops.recv() => {}
            _ = tokio::time::sleep(RECHECK) => {}
            _ = tokio::time::sleep_until(deadline) => return Ok(Json(Work::default())),
            _ = st.shutdown.cancelled() => return Ok(Json(Work::default())),
        }
    }
}

/// The starts placed on this agent (claimed, their leases taken by this run) and the stops of the
/// leases it owns.
async fn collect(st: &AppState, name: &str, agent_id: Uuid, host: &str) -> Result<Work, EdgeError> {
    let mut work = Work::default();
    let mut conn = st.pool.acquire().await.map_err(db::DbError::from)?;
    while work.starts.len() < STARTS_PER_POLL {
        let Some((op_id, lease_id)) = db::edge::claim_start(&mut *conn, name, agent_id).await? else { break };
        let row = match db::leases::take(&mut conn, lease_id, op_id, agent_id, host).await? {
            Take::Taken(row) => row,
            other => {
                // Stopped (or cancelled) before the agent took it: nothing was started.
                let why = match other {
                    Take::NotStarting(row) => {
                        format!("the lease was {} before the edge agent took it", row.status.as_str())
                    }
                    _ => "the lease was not there to start".to_owned(),
                };
                let _ = db::leases::end(&mut *conn, lease_id, LeaseEnd::Stopped, "stopped_before_start", None).await?;
                db::operations::finish(&mut *conn, op_id, &agent_id.to_string(), &Outcome::cancelled(why), &[]).await?;
                continue;
            }
        };
        let target = row.kind.parse::<LeaseKind>().ok().and_then(|kind| {
            let target: LeaseTarget = serde_json::from_value(row.target.clone()).ok()?;
            Some((kind, target))
        });
        let Some((kind, target)) = target else {
            db::leases::end(&mut *conn, lease_id, LeaseEnd::Failed, "start_failed", None).await?;
            let outcome = Outcome::failed("the lease's kind or target could not be read back; nothing was started");
            db::operations::finish(&mut *conn, op_id, &agent_id.to_string(), &outcome, &[]).await?;
            continue;
        };
        work.starts.push(StartOrder {
            lease_id,
            kind,
            target,
            listen_addr: row.requested_listen_addr.clone(),
            expires_at: row.expires_at,
        });
    }
    work.stops = db::edge::stops(&mut *conn, agent_id)
        .await?
        .into_iter()
        .map(|(lease_id, reason)| StopOrder { lease_id, reason })
        .collect();
    Ok(work)
}

/// `POST /edge/v1/heartbeat`: the run and its leases are alive; says which of them are not live.
pub(super) async fn heartbeat(
    State(st): State<AppState>,
    caller: EdgeCaller,
    Json(h): Json<Heartbeat>,
) -> Result<Json<HeartbeatAck>, EdgeError> {
    if !db::agents::heartbeat(&st.pool, h.agent_id).await? {
        return Err(EdgeError::NotCurrent);
    }
    current(&st, &caller, h.agent_id).await?;
    db::leases::heartbeat(&st.pool, h.agent_id, &h.lease_ids).await?;
    let not_live = db::edge::not_live(&st.pool, h.agent_id, &h.lease_ids).await?;
    Ok(Json(HeartbeatAck { not_live }))
}
