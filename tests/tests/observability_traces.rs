//! OpenTelemetry export: one `list_nodes` call through a stack with `telemetry.otlp_endpoint` set
//! is one trace at a (fake) OTLP/HTTP collector — the gateway's `tool_call` span, the worker's
//! `run_job` span as its child (the trace context travelled in the job), and the `cli_run` span of
//! `tctl get nodes` as the job's child, with the binary and subcommand but no argument values.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::routing::post;
use mtcp_shared::config::{Config, TelemetryConfig};
use mtcp_tests::client::text_of;
use mtcp_tests::{Stack, StackOptions};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use serde_json::json;

/// The services' JSON log lines.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What the collector received: each span with its resource's `service.name`.
type Received = Arc<Mutex<Vec<(String, Span)>>>;

fn string_attr(attrs: &[KeyValue], key: &str) -> Option<String> {
    attrs.iter().find(|kv| kv.key == key).and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
        any_value::Value::StringValue(s) => Some(s.clone()),
        _ => None,
    })
}

/// A collector on 127.0.0.1:0 that decodes OTLP/HTTP protobuf posts to `/v1/traces`.
async fn collector() -> (String, Received) {
    let received: Received = Arc::default();
    let sink = received.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        post(move |body: Bytes| {
            let sink = sink.clone();
            async move {
                let request = ExportTraceServiceRequest::decode(body).expect("an OTLP protobuf trace export");
                let mut sink = sink.lock().unwrap();
                for resource_spans in request.resource_spans {
                    let attrs = resource_spans.resource.map(|r| r.attributes).unwrap_or_default();
                    let service = string_attr(&attrs, "service.name").unwrap_or_default();
                    for scope in resource_spans.scope_spans {
                        sink.extend(scope.spans.into_iter().map(|s| (service.clone(), s)));
                    }
                }
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_call_is_one_trace_from_the_gateway_through_the_job_to_the_cli_run() {
    let (url, received) = collector().await;
    let telemetry =
        TelemetryConfig { otlp_endpoint: Some(url), service_name: Some("mtcp-e2e".into()), ..Default::default() };
    let config = Config { telemetry: telemetry.clone(), ..Config::default() };
    let logs = LogBuffer::default();
    let writer = logs.clone();
    mtcp_shared::telemetry::init_with_writer(&config, "unused", move || writer.clone());
    let mut stack = Stack::start(StackOptions {
        tweak: Some(Arc::new(move |c: &mut Config| c.telemetry = telemetry.clone())),
        ..StackOptions::default()
    })
    .await
    .unwrap();
    let admin = stack.client("admin").await.unwrap();
    let result = admin.call("list_nodes", json!({})).await.unwrap();
    assert_eq!(result.is_error, Some(false), "{}", text_of(&result));
    let op_id = result.meta.as_ref().unwrap().0["mtcp/op_id"].as_str().unwrap().to_owned();
    stack.stop().await;
    tokio::task::spawn_blocking(mtcp_shared::telemetry::flush).await.unwrap();

    let find = |name: &str| {
        received
            .lock()
            .unwrap()
            .iter()
            .find(|(_, s)| s.name == name && string_attr(&s.attributes, "op_id").as_deref() == Some(op_id.as_str()))
            .cloned()
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    while (find("tool_call").is_none() || find("run_job").is_none()) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (service, call) = find("tool_call").expect("the gateway's tool_call span was exported");
    let Some((_, job)) = find("run_job") else {
        let seen: Vec<String> = received
            .lock()
            .unwrap()
            .iter()
            .map(|(_, s)| format!("{} {:?}", s.name, s.attributes.iter().map(|kv| kv.key.clone()).collect::<Vec<_>>()))
            .collect();
        panic!("the worker's run_job span was not exported; spans: {seen:#?}");
    };
    assert_eq!(service, "mtcp-e2e");
    assert_eq!(string_attr(&call.attributes, "actor").as_deref(), Some("dev-admin"));
    assert_eq!(string_attr(&call.attributes, "capability").as_deref(), Some("inventory.nodes"));
    assert_eq!(string_attr(&call.attributes, "outcome").as_deref(), Some("succeeded"));
    assert!(call.parent_span_id.is_empty(), "the call starts the trace (the client sent no traceparent)");

    assert_eq!(job.trace_id, call.trace_id, "the job continues the call's trace");
    assert_eq!(job.parent_span_id, call.span_id, "the job's parent is the gateway's call span");
    assert_eq!(string_attr(&job.attributes, "capability").as_deref(), Some("inventory.nodes"));

    let spans = received.lock().unwrap().clone();
    let runs: Vec<&Span> =
        spans.iter().map(|(_, s)| s).filter(|s| s.name == "cli_run" && s.parent_span_id == job.span_id).collect();
    assert_eq!(runs.len(), 1, "one CLI run under the job");
    let run = runs[0];
    assert_eq!(run.trace_id, call.trace_id, "the CLI run is in the same trace");
    assert_eq!(string_attr(&run.attributes, "binary").as_deref(), Some("tctl"));
    assert_eq!(string_attr(&run.attributes, "subcommand").as_deref(), Some("get nodes"));
    assert_eq!(string_attr(&run.attributes, "exit").as_deref(), Some("ok"));
    // Logs still carry the call's context with export on (two per-layer filters: see
    // telemetry::filter), and the worker's lines name the call too.
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let of_call: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|l| l["op_id"] == json!(op_id))
        .collect();
    for message in ["tool call", "job finished"] {
        let line = of_call.iter().find(|l| l["message"] == message).unwrap_or_else(|| panic!("no {message:?} line"));
        assert_eq!(line["capability"], "inventory.nodes", "{line}");
    }
    // Only this workspace's spans, and none of the log-only context spans, are exported.
    for (_, s) in &spans {
        assert!(["tool_call", "run_job", "cli_run"].contains(&s.name.as_str()), "unexpected span {}", s.name);
    }
}
