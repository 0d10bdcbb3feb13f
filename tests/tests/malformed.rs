//! Malformed requests against `/mcp` and `/audit/ingest`: bad JSON, wrong types, huge bodies, bad
//! UTF-8, wrong headers, unknown methods. None may crash or 5xx the gateway, and every rejection
//! says what is wrong; the gateway keeps answering afterwards.

use std::sync::Arc;

use mtcp_shared::config::IngestKey;
use mtcp_tests::{Stack, StackOptions};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};

const INGEST_KEY: &str = "ingest-key-for-the-malformed-corpus";

/// One malformed request: what it sends and a word its rejection must contain (any of them).
struct Probe {
    label: &'static str,
    path: &'static str,
    method: reqwest::Method,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    /// The answer must contain one of these (case-insensitive).
    says: &'static [&'static str],
}

fn mcp_headers(key: &str) -> Vec<(&'static str, String)> {
    vec![
        ("authorization", format!("Bearer {key}")),
        ("content-type", "application/json".into()),
        ("accept", "application/json, text/event-stream".into()),
        ("mcp-protocol-version", "2025-11-25".into()),
    ]
}

fn rpc(method: &str, params: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params })).unwrap()
}

fn probes(key: &str) -> Vec<Probe> {
    let post = reqwest::Method::POST;
    let mcp = |label, body: Vec<u8>, says: &'static [&'static str]| Probe {
        label,
        path: "/mcp",
        method: reqwest::Method::POST,
        headers: mcp_headers(key),
        body,
        says,
    };
    let without = |name: &str| mcp_headers(key).into_iter().filter(|(h, _)| *h != name).collect::<Vec<_>>();
    let with = |name: &'static str, value: &str| {
        let mut h = without(name);
        h.push((name, value.to_owned()));
        h
    };
    let call =
        |args: serde_json::Value| rpc("tools/call", serde_json::json!({ "name": "list_nodes", "arguments": args }));
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes();
    let ingest = |label, headers: Vec<(&'static str, String)>, body: Vec<u8>, says| Probe {
        label,
        path: "/audit/ingest",
        method: reqwest::Method::POST,
        headers,
        body,
        says,
    };
    let ingest_auth =
        vec![("authorization", format!("Bearer {INGEST_KEY}")), ("content-type", "application/json".into())];
    vec![
        mcp("truncated JSON", b"{\"jsonrpc\": \"2.0\", \"id\": 1, \"meth".to_vec(), &["parse", "json", "invalid"]),
        mcp("not JSON at all", b"hello".to_vec(), &["parse", "json", "invalid"]),
        mcp("empty body", Vec::new(), &["parse", "json", "empty", "invalid", "EOF"]),
        mcp("empty batch", b"[]".to_vec(), &["batch", "invalid", "empty", "request"]),
        mcp(
            "bad UTF-8",
            b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\xfe\"}".to_vec(),
            &["utf", "parse", "invalid"],
        ),
        mcp(
            "jsonrpc 1.0",
            br#"{"jsonrpc":"1.0","id":1,"method":"tools/list"}"#.to_vec(),
            &["jsonrpc", "invalid", "version"],
        ),
        mcp("no method", br#"{"jsonrpc":"2.0","id":1}"#.to_vec(), &["method", "invalid", "unknown"]),
        mcp("unknown method", rpc("tools/explode", serde_json::json!({})), &["-32601"]),
        mcp(
            "id is an object",
            br#"{"jsonrpc":"2.0","id":{"a":1},"method":"tools/list"}"#.to_vec(),
            &["id", "invalid", "parse"],
        ),
        mcp(
            "params is a list",
            br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":[1]}"#.to_vec(),
            &["params", "invalid", "expected"],
        ),
        mcp(
            "tool name missing",
            rpc("tools/call", serde_json::json!({ "arguments": {} })),
            &["name", "invalid", "missing"],
        ),
        mcp("arguments a string", call(serde_json::json!("x")), &["arguments", "invalid", "expected"]),
        mcp(
            "tool name of 100 KB",
            rpc("tools/call", serde_json::json!({ "name": "x".repeat(100_000) })),
            &["unknown tool"],
        ),
        mcp("unknown tool", rpc("tools/call", serde_json::json!({ "name": "rm_rf" })), &["unknown tool"]),
        mcp("nested 100k deep", deep.clone(), &["parse", "json", "recursion", "invalid", "depth"]),
        mcp("body over 1 MiB", vec![b' '; 2 * 1024 * 1024], &["larger", "too large", "length limit", "payload"]),
        Probe {
            label: "text/plain",
            headers: with("content-type", "text/plain"),
            ..mcp("", call(serde_json::json!({})), &["content-type", "application/json"])
        },
        Probe {
            label: "no Accept",
            headers: without("accept"),
            ..mcp("", call(serde_json::json!({})), &["accept", "text/event-stream"])
        },
        Probe {
            label: "unknown protocol version",
            headers: with("mcp-protocol-version", "1999-01-01"),
            ..mcp("", rpc("tools/list", serde_json::json!({})), &["version", "protocol"])
        },
        Probe {
            label: "bearer of garbage",
            headers: with("authorization", "Bearer !!not-a-key!!"),
            ..mcp("", rpc("tools/list", serde_json::json!({})), &["invalid", "token", "credential", "unauthorized"])
        },
        Probe {
            label: "DELETE",
            method: reqwest::Method::DELETE,
            ..mcp("", Vec::new(), &["method", "not allowed", "session", "unsupported"])
        },
        Probe {
            label: "PUT",
            method: reqwest::Method::PUT,
            ..mcp("", Vec::new(), &["method", "not allowed", "unsupported"])
        },
        ingest(
            "ingest: no key",
            vec![("content-type", "application/json".into())],
            b"{}".to_vec(),
            &["authorization", "bearer"],
        ),
        ingest(
            "ingest: MCP key",
            vec![("authorization", format!("Bearer {key}"))],
            b"{}".to_vec(),
            &["ingest key", "authorization"],
        ),
        ingest("ingest: bad JSON", ingest_auth.clone(), b"{\"event\":".to_vec(), &["json", "event", "line"]),
        ingest("ingest: bad UTF-8", ingest_auth.clone(), b"\xff\xfe\xfd".to_vec(), &["utf-8"]),
        ingest("ingest: empty", ingest_auth.clone(), Vec::new(), &["no event", "empty"]),
        ingest("ingest: a number", ingest_auth.clone(), b"42".to_vec(), &["object", "event"]),
        ingest("ingest: deep", ingest_auth.clone(), deep, &["json", "recursion", "depth", "event", "line"]),
        ingest("ingest: too large", ingest_auth.clone(), vec![b' '; 64 * 1024 * 1024], &["large", "limit", "length"]),
        Probe {
            label: "ingest: GET",
            method: reqwest::Method::GET,
            ..ingest("", ingest_auth, Vec::new(), &["method", "not allowed"])
        },
    ]
    .into_iter()
    .map(|p| Probe { method: if p.label.is_empty() { post.clone() } else { p.method }, ..p })
    .collect()
}

#[tokio::test]
async fn malformed_requests_are_refused_clearly_and_never_break_the_gateway() {
    let tweak: mtcp_tests::Tweak = Arc::new(|c| {
        c.audit.ingest_keys = vec![IngestKey { name: "corpus".into(), sha256: mtcp_cli::dev::key_hash(INGEST_KEY) }];
    });
    let mut stack = Stack::start(StackOptions { tweak: Some(tweak), ..Default::default() }).await.unwrap();
    let key = stack.key("admin").to_owned();
    let http = reqwest::Client::new();
    let mut failures = Vec::new();
    for p in probes(&key) {
        let mut req = http.request(p.method.clone(), format!("{}{}", stack.base, p.path)).body(p.body.clone());
        for (h, v) in &p.headers {
            req = req.header(*h, v.as_str());
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{}: no answer: {e}", p.label));
                continue;
            }
        };
        let status = resp.status();
        let body = resp.text().await.unwrap_or_default();
        let short: String = body.chars().take(300).collect();
        eprintln!("{:<28} {status} {short}", p.label);
        if status.is_server_error() {
            failures.push(format!("{}: {status} {short}", p.label));
            continue;
        }
        let lower = body.to_lowercase();
        let says = p.says.iter().any(|w| lower.contains(&w.to_lowercase()));
        // A JSON-RPC error or tool error answered with 200 is fine; silence is not.
        // Ingest answers a batch with per-event rejections: a batch whose events were all refused.
        let refused = !status.is_success()
            || lower.contains("\"error\"")
            || lower.contains("\"iserror\":true")
            || (lower.contains("\"rejected\":[{") && lower.contains("\"inserted\":0"));
        if !refused || !says {
            failures.push(format!("{}: expected a refusal naming one of {:?}; got {status} {short}", p.label, p.says));
        }
    }
    // Still serving.
    let ok = http
        .post(format!("{}/mcp", stack.base))
        .header(AUTHORIZATION, format!("Bearer {key}"))
        .header(CONTENT_TYPE, "application/json")
        .header(ACCEPT, "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .body(rpc("tools/call", serde_json::json!({ "name": "whoami", "arguments": {} })))
        .send()
        .await
        .unwrap();
    assert!(ok.status().is_success());
    assert!(ok.text().await.unwrap().contains("dev-admin"));
    assert!(failures.is_empty(), "{} probe(s) misbehaved:\n{}", failures.len(), failures.join("\n"));
    stack.stop().await;
}
