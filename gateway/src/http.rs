//! The HTTP router: `/mcp` (and `/mcp/`) behind bearer auth, metadata, health, readiness, metrics
//! (unless `service.metrics_listen` serves them elsewhere).

use std::sync::Arc;

use axum::Router;
use axum::middleware;
use axum::routing::{get, post};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use crate::auth::{PRM_PATH, protected_resource_metadata, require_bearer};
use crate::mcp::McpHandler;
use crate::state::AppState;

use crate::intake::{MAX_BODY_BYTES, intake};

pub fn router(state: AppState) -> Router {
    let mut config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_max_request_body_bytes(MAX_BODY_BYTES)
        .with_sse_keep_alive(Some(state.config.service.sse_keep_alive))
        .with_cancellation_token(state.shutdown.child_token());
    let hosts = &state.config.service.allowed_hosts;
    if hosts.iter().any(|h| h == "*") {
        config = config.disable_allowed_hosts();
    } else if !hosts.is_empty() {
        let mut all: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
        all.extend(hosts.iter().cloned());
        config = config.with_allowed_hosts(all);
    }
    let handler_state = state.clone();
    let mcp = StreamableHttpService::new(
        move || Ok(McpHandler { state: handler_state.clone() }),
        Arc::new(NeverSessionManager::default()),
        config,
    );
    let protected = Router::new()
        // Also answers `/mcp/` (the seed's URL): a nested service receives the trailing slash too.
        .nest_service("/mcp", mcp)
        // Inner to authentication: a cancellation only touches the caller's own operations.
        .layer(middleware::from_fn_with_state(state.clone(), intake))
        .layer(middleware::from_fn_with_state(state.clone(), require_bearer))
        // Outermost: a cross-origin page is refused before its credential or body is looked at.
        .layer(middleware::from_fn_with_state(state.clone(), crate::origin::check_origin));
    let ingest = Router::new()
        .route("/audit/ingest", post(crate::ingest::ingest))
        .route("/audit/ingest/{tag}", post(crate::ingest::ingest))
        .method_not_allowed_fallback(|method: axum::http::Method| async move {
            (axum::http::StatusCode::METHOD_NOT_ALLOWED, format!("method {method} is not allowed here; POST events"))
        })
        .layer(axum::extract::DefaultBodyLimit::max(state.config.audit.max_body_bytes))
        .with_state(state.clone());
    Router::new()
        .route(PRM_PATH, get(protected_resource_metadata))
        .route("/.well-known/oauth-protected-resource", get(protected_resource_metadata))
        .with_state(state.clone())
        .merge(protected)
        .merge(ingest)
        .merge(crate::edge::router(state.clone()))
        .merge(crate::console::router(state.clone()))
        .merge(match state.config.service.metrics_listen {
            // `/metrics` has its own listener: not on the MCP port.
            Some(_) => mtcp_shared::telemetry::health_router(state.pool.clone()),
            None => mtcp_shared::telemetry::ops_router(state.pool.clone()),
        })
}
