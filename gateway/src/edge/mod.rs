//! The edge endpoints (`/edge/v1/…`, [`mtcp_shared::edge`]): edge agents register, long-poll for
//! the lease starts and stops addressed to them, report what their processes did, send their logs
//! and heartbeat. Authenticated by the agent's own credential (never an MCP caller's key), checked
//! before the body is read; each request after `register` names the agent's current run.

mod reports;
mod work;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use mtcp_shared::db::{self, DbError};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::auth::{authorization, parse_bearer};
use crate::state::AppState;

/// Largest edge request body (a log batch is the big one).
const MAX_BODY_BYTES: usize = 1024 * 1024;

pub fn router(state: AppState) -> Router {
    let p = mtcp_shared::edge::PREFIX;
    Router::new()
        .route(&format!("{p}/register"), post(work::register))
        .route(&format!("{p}/work"), post(work::work))
        .route(&format!("{p}/heartbeat"), post(work::heartbeat))
        .route(&format!("{p}/logs"), post(reports::logs))
        .route(&format!("{p}/leases/{{lease_id}}/started"), post(reports::started))
        .route(&format!("{p}/leases/{{lease_id}}/failed"), post(reports::failed))
        .route(&format!("{p}/leases/{{lease_id}}/ended"), post(reports::ended))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// The agent a request's credential belongs to.
pub(crate) struct EdgeCaller {
    pub name: String,
}

impl FromRequestParts<AppState> for EdgeCaller {
    type Rejection = EdgeError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let refused = |why: &str| EdgeError::Unauthorized(why.to_owned());
        let token = authorization(&parts.headers)
            .and_then(parse_bearer)
            .map_err(|e| refused(&format!("{e}; send `Authorization: Bearer <edge credential>`")))?;
        let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        match db::edge::find_by_hash(&st.pool, &hash).await? {
            Some(agent) if agent.revoked_at.is_none() => Ok(Self { name: agent.name }),
            Some(agent) => {
                tracing::warn!(edge_agent = %agent.name, "a revoked edge credential was presented");
                Err(refused("this edge credential was revoked"))
            }
            None => Err(refused("unknown edge credential")),
        }
    }
}

/// What an edge request can be answered, besides success.
#[derive(Debug)]
pub(crate) enum EdgeError {
    /// 401: no usable credential.
    Unauthorized(String),
    /// 409: not the agent's current run; register again.
    NotCurrent,
    /// 400: a report that does not fit (another agent's lease, an unknown one).
    Bad(String),
    /// 503: the database is unavailable.
    Unavailable,
}

impl From<DbError> for EdgeError {
    fn from(e: DbError) -> Self {
        tracing::error!(error = %e, "an edge request could not reach the database");
        Self::Unavailable
    }
}

impl IntoResponse for EdgeError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            Self::Unauthorized(m) => (StatusCode::UNAUTHORIZED, m),
            Self::NotCurrent => (
                StatusCode::CONFLICT,
                "this run of the agent is over (another registered, or it went offline); register again".into(),
            ),
            Self::Bad(m) => (StatusCode::BAD_REQUEST, m),
            Self::Unavailable => {
                (StatusCode::SERVICE_UNAVAILABLE, "the control plane's database is unavailable; retry".into())
            }
        };
        (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
    }
}

/// The host of run `agent_id` of `caller`, or 409 when it is not the agent's current run.
async fn current(st: &AppState, caller: &EdgeCaller, agent_id: Uuid) -> Result<String, EdgeError> {
    db::edge::current_run(&st.pool, &caller.name, agent_id).await?.ok_or(EdgeError::NotCurrent)
}

/// A report about `lease_id` from run `agent_id`: the run must be current (409) and own the lease
/// (400). The run's host.
async fn reporting(st: &AppState, caller: &EdgeCaller, agent_id: Uuid, lease_id: Uuid) -> Result<String, EdgeError> {
    let host = current(st, caller, agent_id).await?;
    owned(st, agent_id, lease_id).await?;
    Ok(host)
}

/// Whether run `agent_id` owns `lease_id` (a report about any other lease is refused).
async fn owned(st: &AppState, agent_id: Uuid, lease_id: Uuid) -> Result<(), EdgeError> {
    if db::edge::owns(&st.pool, agent_id, lease_id).await? {
        Ok(())
    } else {
        Err(EdgeError::Bad(format!("lease {lease_id} is not this agent's")))
    }
}
