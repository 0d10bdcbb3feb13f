//! JSON logs name the call they belong to: a line the gateway writes and a line the worker writes
//! while processing one tool call both carry its op_id, actor and capability as top-level fields
//! (not nested under a span), next to timestamp, level and message.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use mtcp_tests::client::text_of;
use mtcp_tests::{Stack, StackOptions};
use serde_json::{Value, json};

#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The services' own JSON logging at the default level (info), captured (this test binary's
/// global subscriber).
fn logs() -> &'static LogBuffer {
    static LOGS: OnceLock<LogBuffer> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = LogBuffer::default();
        let writer = buffer.clone();
        let config = mtcp_shared::config::Config::default();
        assert_eq!(config.service.log_format, mtcp_shared::config::LogFormat::Json);
        mtcp_shared::telemetry::init_with_writer(&config, "test", move || writer.clone());
        buffer
    })
}

fn lines() -> Vec<Value> {
    let text = String::from_utf8(logs().0.lock().unwrap().clone()).unwrap();
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}"))).collect()
}

#[tokio::test]
async fn gateway_and_worker_lines_of_a_call_carry_op_id_actor_and_capability() {
    logs();
    let mut stack = Stack::start(StackOptions::default()).await.unwrap();
    let operator = stack.client("operator").await.unwrap();
    let result = operator.call("list_nodes", json!({})).await.unwrap();
    assert_eq!(result.is_error, Some(false), "{}", text_of(&result));
    let op_id = result.meta.as_ref().unwrap().0["mtcp/op_id"].as_str().unwrap().to_owned();
    stack.stop().await;

    let all = lines();
    let of_call: Vec<&Value> = all.iter().filter(|l| l["op_id"] == json!(op_id)).collect();
    for line in &of_call {
        assert_eq!(line["actor"], "dev-operator", "{line}");
        assert_eq!(line["capability"], "inventory.nodes", "{line}");
        for key in ["timestamp", "level", "message", "target"] {
            assert!(line[key].is_string(), "{key} missing: {line}");
        }
        assert!(line.get("fields").is_none() && line.get("spans").is_none(), "flat, not nested: {line}");
    }
    let from = |crate_name: &str| of_call.iter().any(|l| l["target"].as_str().unwrap().starts_with(crate_name));
    assert!(from("mtcp_gateway"), "no gateway line carries op_id {op_id}: {of_call:#?}");
    assert!(from("mtcp_worker"), "no worker line carries op_id {op_id}: {of_call:#?}");
    let gateway = of_call.iter().find(|l| l["message"] == "tool call").expect("the gateway's `tool call` line");
    assert_eq!(gateway["decision"], "allow");
    assert_eq!(gateway["level"], "INFO");
    let worker = of_call.iter().find(|l| l["message"] == "job finished").expect("the worker's `job finished` line");
    assert_eq!(worker["status"], "succeeded");
    assert_eq!(worker["tool"], "list_nodes");
    // The worker's own context (its incarnation) comes along too.
    assert!(worker["agent_id"].is_string(), "{worker}");

    // No line outside a call invents one: lines without an op_id have no actor from a call either.
    assert!(all.iter().filter(|l| l.get("op_id").is_none()).all(|l| l.get("capability").is_none()));
}

/// A flood of refused credentials is counted in full but logged at the recording rate: 400 bad
/// keys in well under a second used to write 400 `authentication refused` lines.
#[tokio::test]
async fn a_flood_of_refused_credentials_does_not_flood_the_log() {
    logs();
    let mut stack = Stack::start(StackOptions { worker: false, ..StackOptions::default() }).await.unwrap();
    let http = reqwest::Client::new();
    let started = std::time::Instant::now();
    let sends = (0..400).map(|i| {
        http.post(&stack.url)
            .header("authorization", format!("Bearer mtcp_not-a-key-{i}"))
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
            .send()
    });
    for answer in futures::future::join_all(sends).await {
        assert_eq!(answer.unwrap().status(), 401);
    }
    let seconds = started.elapsed().as_secs() + 1;
    stack.stop().await;
    let refused = lines().iter().filter(|l| l["message"] == "authentication refused").count() as u64;
    // 20 lines per second of the flood (each window), plus one window of slack at the edges.
    assert!(refused <= 20 * (seconds + 1), "{refused} refusal lines logged for 400 refusals in {seconds} s");
    assert!(refused >= 1, "refusals are still logged");
}
