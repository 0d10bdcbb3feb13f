//! Process-wide telemetry: tracing subscriber (JSON or text) and the Prometheus recorder, plus the
//! small `/health`, `/ready`, `/metrics` router every service serves.

use std::sync::OnceLock;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use sqlx::PgPool;
use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, ServiceConfig};

/// Install the tracing subscriber once; later calls (tests, `mtcp up`) are no-ops.
pub fn init_tracing(service: &ServiceConfig) {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let filter =
            EnvFilter::try_new(service.log_level.to_ascii_lowercase()).unwrap_or_else(|_| EnvFilter::new("info"));
        let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
        let _ = match service.log_format {
            LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).try_init(),
            LogFormat::Text => builder.try_init(),
        };
    });
}

/// The tracing filter for a configured level. The MCP library logs whole requests (arguments
/// included) at debug level, before any handler can redact them: it stays at info unless the
/// operator names it explicitly.
pub fn log_filter(level: &str) -> String {
    let level = level.to_ascii_lowercase();
    if level.contains("rmcp") { level } else { format!("{level},rmcp=info") }
}

/// The process's Prometheus recorder (installed on first use).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];
            let recorder =
                PrometheusBuilder::new().set_buckets(&buckets).expect("static buckets are valid").build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (a test harness); we still render ours.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

#[derive(Clone)]
struct OpsState {
    pool: PgPool,
    metrics: PrometheusHandle,
}

/// `/health` (process up), `/ready` (database reachable and migrated) and `/metrics`.
pub fn ops_router(pool: PgPool) -> Router {
    Router::new()
        .route("/health", get(|| async { axum::Json(serde_json::json!({ "status": "ok" })) }))
        .route("/ready", get(ready))
        .route("/metrics", get(render_metrics))
        .with_state(OpsState { pool, metrics: metrics_handle() })
}

async fn ready(State(st): State<OpsState>) -> impl IntoResponse {
    match crate::db::ensure_migrated(&st.pool).await {
        Ok(()) => (StatusCode::OK, axum::Json(serde_json::json!({ "status": "ready" }))),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            let reason = match e {
                crate::db::DbError::NotMigrated { .. } => "database not migrated",
                _ => "database unreachable",
            };
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({ "status": "not_ready", "reason": reason })),
            )
        }
    }
}

async fn render_metrics(State(st): State<OpsState>) -> impl IntoResponse {
    st.metrics.run_upkeep();
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], st.metrics.render())
}

/// Bind `listen` and serve [`ops_router`] there until `stop` fires; returns the bound address.
pub async fn serve_ops(
    listen: std::net::SocketAddr,
    pool: PgPool,
    stop: tokio_util::sync::CancellationToken,
) -> std::io::Result<std::net::SocketAddr> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ =
            axum::serve(listener, ops_router(pool)).with_graceful_shutdown(async move { stop.cancelled().await }).await;
    });
    Ok(addr)
}
