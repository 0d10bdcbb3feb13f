//! OpenTelemetry traces: the OTLP/HTTP exporter when export is on (`telemetry.otlp_endpoint`, or
//! `OTEL_ENABLED`), and the W3C
//! trace context that carries one tool call's trace from the gateway through the job to the worker.
//!
//! Spans come from `tracing` (tracing-opentelemetry turns them into OpenTelemetry spans). Only
//! this workspace's spans are exported, never a library's (the MCP library's would hold request
//! arguments), nor the long-lived spans that only give log lines their context ([`LOG_CONTEXT`]).

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Duration;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use tracing::Subscriber;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{FilterFn, Filtered};
use tracing_subscriber::registry::LookupSpan;

use crate::config::TelemetryConfig;

/// Target of spans that only give log lines their context (a worker incarnation, a lease's
/// lifetime): they last for hours, so they are never exported as spans.
pub const LOG_CONTEXT: &str = "mtcp_context";

/// How long one export may take.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// The tracer provider of this process, once export is on.
static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// Whether a span or event belongs to this workspace (crates `mtcp_*`).
pub(super) fn is_ours(target: &str) -> bool {
    target.starts_with("mtcp")
}

/// The URL spans are posted to: `<endpoint>/v1/traces`, unless the endpoint already names it.
pub fn traces_url(endpoint: &str) -> String {
    let base = endpoint.trim_end_matches('/');
    if base.ends_with("/v1/traces") { base.to_owned() } else { format!("{base}/v1/traces") }
}

/// The OpenTelemetry layer for `telemetry`, or `None` when export is off. Builds the exporter and
/// the tracer provider (kept for [`flush`] and [`shutdown`]).
pub(super) fn layer<S>(
    telemetry: &TelemetryConfig,
    default_service: &str,
) -> Result<Option<impl Layer<S> + Send + Sync + 'static>, opentelemetry_otlp::ExporterBuildError>
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
{
    let Some(endpoint) = telemetry.export_endpoint() else { return Ok(None) };
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(traces_url(endpoint))
        .with_timeout(EXPORT_TIMEOUT)
        .build()?;
    let service = telemetry.service_name.clone().unwrap_or_else(|| default_service.to_owned());
    let resource = Resource::builder()
        .with_service_name(service)
        .with_attribute(opentelemetry::KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
        .build();
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(telemetry.sample_ratio))))
        .with_resource(resource)
        .build();
    let tracer = provider.tracer("mtcp");
    let _ = PROVIDER.set(provider);
    let ours = FilterFn::new(|meta: &tracing::Metadata<'_>| {
        is_ours(meta.target()) && meta.target() != LOG_CONTEXT && *meta.level() <= tracing::Level::INFO
    });
    let layer: Filtered<_, _, S> =
        tracing_opentelemetry::layer().with_tracer(tracer).with_filter(super::filter::AskEachTime(ours));
    Ok(Some(layer))
}

/// Export every finished span now (tests call it after stopping a stack).
pub fn flush() {
    if let Some(provider) = PROVIDER.get()
        && let Err(e) = provider.force_flush()
    {
        tracing::warn!(error = %e, "flushing trace spans");
    }
}

/// Export what is left and stop the exporter; later spans are dropped.
pub fn shutdown() {
    if let Some(provider) = PROVIDER.get()
        && let Err(e) = provider.shutdown()
    {
        tracing::warn!(error = %e, "stopping the trace exporter");
    }
}

/// The W3C `traceparent` of the current span, when it is being traced (export on and sampled or
/// not: an unsampled parent keeps the trace unsampled downstream too).
pub fn current_traceparent() -> Option<String> {
    let cx = tracing::Span::current().context();
    if !cx.span().span_context().is_valid() {
        return None;
    }
    let mut carrier = HashMap::new();
    TraceContextPropagator::new().inject_context(&cx, &mut carrier);
    carrier.remove("traceparent")
}

/// Make `span` continue the trace named by a W3C `traceparent`, or start a trace of its own when
/// there is none (or it is malformed) instead of joining whatever span happens to be current.
/// Call it before the span is entered. Without export this does nothing.
pub fn continue_trace(span: &tracing::Span, traceparent: Option<&str>) {
    if PROVIDER.get().is_none() {
        return;
    }
    let mut carrier = HashMap::new();
    if let Some(value) = traceparent {
        carrier.insert("traceparent".to_owned(), value.to_owned());
    }
    let parent = TraceContextPropagator::new().extract_with_context(&opentelemetry::Context::new(), &carrier);
    let _ = span.set_parent(parent);
}
