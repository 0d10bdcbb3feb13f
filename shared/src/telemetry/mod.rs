//! Process-wide telemetry: logs (JSON or text, through `tracing`), OpenTelemetry trace export
//! when configured, the Prometheus recorder with every metric described, and the small
//! `/health`, `/ready`, `/metrics` router every service serves.

mod filter;
mod json;
pub mod metrics;
mod trace;

use std::sync::OnceLock;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use sqlx::PgPool;
use tracing_subscriber::filter::{EnvFilter, FilterExt, FilterFn};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, Registry};

pub use json::FlatJson;
pub use trace::{LOG_CONTEXT, continue_trace, current_traceparent, flush, shutdown, traces_url};

#[cfg(doc)]
use crate::config::TelemetryConfig;
use crate::config::{Config, LogFormat};

/// Install logging, and trace export when it is on ([`TelemetryConfig::export_endpoint`]), once per process;
/// later calls (tests, `mtcp up`) are no-ops. Logs go to stderr. `service_name` names the spans
/// unless `telemetry.service_name` does.
pub fn init(config: &Config, service_name: &str) {
    init_with_writer(config, service_name, std::io::stderr);
}

/// [`init`] with logs written to `writer` (tests capture them).
pub fn init_with_writer<W>(config: &Config, service_name: &str, writer: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let level = &config.service.log_level;
        let filter = EnvFilter::try_new(log_filter(level)).unwrap_or_else(|_| EnvFilter::new(log_filter("info")));
        // This workspace's spans are always on for the log layer, whatever the level: a warning
        // inside a call still carries the call's op_id, actor and capability.
        let filter =
            filter::AskEachTime(filter.or(FilterFn::new(|meta| meta.is_span() && trace::is_ours(meta.target()))));
        let logs: Box<dyn Layer<Registry> + Send + Sync> = match config.service.log_format {
            LogFormat::Json => tracing_subscriber::fmt::layer()
                .event_format(FlatJson)
                .fmt_fields(tracing_subscriber::fmt::format::JsonFields::new())
                .with_writer(writer)
                .with_filter(filter)
                .boxed(),
            LogFormat::Text => tracing_subscriber::fmt::layer().with_writer(writer).with_filter(filter).boxed(),
        };
        let (spans, export_error) = match trace::layer(&config.telemetry, service_name) {
            Ok(layer) => (layer, None),
            Err(e) => (None, Some(e)),
        };
        let _ = tracing_subscriber::registry().with(logs).with(spans).try_init();
        // The metrics recorder too, before the service records anything.
        metrics_handle();
        if let Some(e) = export_error {
            tracing::error!(error = %e, "trace export is off: the OTLP exporter could not be built");
        } else if let Some(endpoint) = config.telemetry.export_endpoint() {
            tracing::info!(url = %traces_url(endpoint), "exporting trace spans over OTLP/HTTP");
            shutdown_with_runtime();
        }
    });
}

/// Flush and stop the exporter when the async runtime shuts down (a service's `main` returning
/// drops the runtime, which drops this task), so the last spans are not lost on exit.
fn shutdown_with_runtime() {
    struct OnDrop;
    impl Drop for OnDrop {
        fn drop(&mut self) {
            shutdown();
        }
    }
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(async {
            let _on_drop = OnDrop;
            std::future::pending::<()>().await;
        });
    }
}

/// The tracing filter for a configured level. The MCP library logs whole requests (arguments
/// included) at debug level, before any handler can redact them, and at info three lines per
/// stateless request (a session that starts and ends with each POST: noise that cost the gateway
/// measurable time under load): it stays at warn unless the operator names it explicitly.
pub fn log_filter(level: &str) -> String {
    let level = level.to_ascii_lowercase();
    if level.contains("rmcp") { level } else { format!("{level},rmcp=warn") }
}

/// The process's Prometheus recorder (installed on first use), with every metric described.
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];
            let recorder =
                PrometheusBuilder::new().set_buckets(&buckets).expect("static buckets are valid").build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (a test harness); we still render ours.
            let _ = ::metrics::set_global_recorder(recorder);
            metrics::describe_all();
            handle
        })
        .clone()
}

/// `/health` (process up), `/ready` (database reachable and migrated) and `/metrics`.
pub fn ops_router(pool: PgPool) -> Router {
    health_router(pool).merge(metrics_router())
}

/// `/health` and `/ready` only (the gateway with `service.metrics_listen` set).
pub fn health_router(pool: PgPool) -> Router {
    Router::new()
        // The seed's documented answer (`curl …/health` → `{"status": "healthy"}`).
        .route("/health", get(|| async { axum::Json(serde_json::json!({ "status": "healthy" })) }))
        .route("/ready", get(ready))
        .with_state(pool)
}

/// `/metrics` only.
pub fn metrics_router() -> Router {
    Router::new().route("/metrics", get(render_metrics)).with_state(metrics_handle())
}

async fn ready(State(pool): State<PgPool>) -> impl IntoResponse {
    match crate::db::ensure_migrated(&pool).await {
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

async fn render_metrics(State(metrics): State<PrometheusHandle>) -> impl IntoResponse {
    metrics.run_upkeep();
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], metrics.render())
}

/// Bind `listen` and serve [`ops_router`] there until `stop` fires; returns the bound address.
pub async fn serve_ops(
    listen: std::net::SocketAddr,
    pool: PgPool,
    stop: tokio_util::sync::CancellationToken,
) -> std::io::Result<std::net::SocketAddr> {
    // The router (and with it the metrics recorder) exists before this returns: a metric recorded
    // right after start-up (a reaper taking the lead) must not reach an uninstalled recorder.
    serve_router(listen, ops_router(pool), stop).await
}

/// Bind `listen` and serve [`metrics_router`] there until `stop` fires; returns the bound address.
pub async fn serve_metrics(
    listen: std::net::SocketAddr,
    stop: tokio_util::sync::CancellationToken,
) -> std::io::Result<std::net::SocketAddr> {
    serve_router(listen, metrics_router(), stop).await
}

async fn serve_router(
    listen: std::net::SocketAddr,
    app: Router,
    stop: tokio_util::sync::CancellationToken,
) -> std::io::Result<std::net::SocketAddr> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(crate::listener::nodelay(listener), app)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await;
    });
    Ok(addr)
}
