//! What an outside probe of the running system found, held: long JSON-RPC ids are refused before
//! anything is written, one call's recorded inputs are bounded in total, and reasons and tickets
//! are stored redacted; two Authorization headers, malformed Bearer spellings and foreign Origins
//! are refused at the HTTP edge.

use mtcp_tests::{Stack, StackOptions};
use serde_json::{Value, json};

#[path = "hardening/check_policy.rs"]
mod check_policy;

fn call_body(id: Value, arguments: Value) -> String {
    json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call", "params": { "name": "list_nodes", "arguments": arguments } })
        .to_string()
}

async fn post(stack: &Stack, role: &str, body: String) -> (u16, Value) {
    let answer = reqwest::Client::new()
        .post(&stack.url)
        .header("authorization", format!("Bearer {}", stack.key(role)))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    let text = answer.text().await.unwrap();
    let json = text
        .lines()
        .find_map(|l| l.strip_prefix("data: ").or(Some(l).filter(|l| l.starts_with('{'))))
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or(Value::Null);
    (status, json)
}

async fn stored_bytes(stack: &Stack, actor: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT COALESCE(SUM(octet_length(COALESCE(request_id, '')) + octet_length(inputs::text)), 0)::bigint
         FROM operations WHERE actor = $1",
    )
    .bind(actor)
    .fetch_one(&stack.db.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_long_request_id_is_refused_and_nothing_is_written() {
    let mut stack = Stack::start(StackOptions { worker: false, ..StackOptions::default() }).await.unwrap();
    let (status, answer) = post(&stack, "readonly", call_body(Value::from("x".repeat(1_000_000)), json!({}))).await;
    assert_eq!(status, 400, "{answer}");
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(message.contains("`id` is longer than 128 characters"), "{message}");
    assert_eq!(answer["id"], Value::Null, "the refused id is not echoed");
    assert_eq!(stored_bytes(&stack, "dev-readonly").await, 0);
    // An id at the limit still works.
    let (status, answer) = post(&stack, "readonly", call_body(Value::from("y".repeat(128)), json!({}))).await;
    assert_eq!(status, 200, "{answer}");
    stack.stop().await;
}

#[tokio::test]
async fn refused_calls_with_huge_arguments_write_a_bounded_record() {
    let mut stack = Stack::start(StackOptions { worker: false, ..StackOptions::default() }).await.unwrap();
    // 200 string arguments of 4,000 bytes each (every one under the per-string cap): 800 kB a call.
    let arguments: serde_json::Map<String, Value> =
        (0..200).map(|i| (format!("field{i}"), Value::from("z".repeat(4000)))).collect();
    for i in 0..10 {
        // readonly may not list tokens: every call is denied, and every denial is recorded.
        let body = json!({ "jsonrpc": "2.0", "id": i, "method": "tools/call",
            "params": { "name": "list_tokens", "arguments": arguments.clone() } });
        let (status, answer) = post(&stack, "readonly", body.to_string()).await;
        assert_eq!(status, 200);
        assert_eq!(answer["result"]["isError"], true, "{answer}");
    }
    let bytes = stored_bytes(&stack, "dev-readonly").await;
    assert!(bytes < 10 * 20 * 1024, "10 refused calls stored {bytes} bytes of inputs");
    let note: String =
        sqlx::query_scalar("SELECT inputs->>'_not_stored' FROM operations WHERE actor = 'dev-readonly' LIMIT 1")
            .fetch_one(&stack.db.pool)
            .await
            .unwrap();
    assert!(note.contains("over the 16384 bytes kept per call"), "{note}");
    stack.stop().await;
}

#[tokio::test]
async fn reasons_and_tickets_are_stored_redacted() {
    let mut stack = Stack::start(StackOptions::default()).await.unwrap();
    let operator = stack.client("operator").await.unwrap();
    let secret = "AKIAIOSFODNN7EXAMPLE";
    let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7x\n-----END RSA PRIVATE KEY-----";
    let result = operator
        .call(
            "create_access_request",
            json!({ "resources": ["access"], "reason": format!("need it, my key is {secret} and {pem}"),
                    "ticket": secret }),
        )
        .await
        .unwrap();
    let op_id = result.meta.as_ref().unwrap().0["mtcp/op_id"].as_str().unwrap().to_owned();
    let (reason, ticket): (String, Option<String>) =
        sqlx::query_as("SELECT reason, ticket FROM operations WHERE op_id = $1::uuid")
            .bind(&op_id)
            .fetch_one(&stack.db.pool)
            .await
            .unwrap();
    for stored in [Some(&reason), ticket.as_ref()].into_iter().flatten() {
        assert!(!stored.contains(secret) && !stored.contains("MIIEowIBAAKCAQEA7x"), "stored: {stored}");
    }
    assert!(reason.starts_with("need it"), "the rest of the reason is kept: {reason}");
    let found = operator.call("search_operations", json!({ "actor": "dev-operator" })).await.unwrap();
    let text = mtcp_tests::client::text_of(&found);
    assert!(!text.contains(secret), "search_operations shows the secret: {text}");
    stack.stop().await;
}

#[tokio::test]
async fn reasons_with_invisible_or_separator_characters_are_refused() {
    let mut stack = Stack::start(StackOptions { worker: false, ..StackOptions::default() }).await.unwrap();
    let operator = stack.client("operator").await.unwrap();
    for sneaky in ["\u{ad}", "\u{180e}", "\u{2028}", "\u{2029}", "\u{202e}"] {
        let reason = format!("routine{sneaky} check");
        let result = operator.call("create_access_request", json!({ "resources": ["access"], "reason": reason })).await;
        let result = result.unwrap();
        let text = mtcp_tests::client::text_of(&result);
        assert_eq!(result.is_error, Some(true), "{sneaky:?} accepted: {text}");
        assert!(text.contains("`reason` contains"), "{sneaky:?}: {text}");
    }
    stack.stop().await;
}

/// Thirty concurrent stops of one slow lease (its proxy ignores SIGTERM for the whole stop grace)
/// used to hold ten pooled connections while they polled: another actor's `whoami` then waited
/// until the lease ended. Now one stop waits, the others get the current state, and no connection
/// is held while waiting.
#[tokio::test]
async fn concurrent_stops_of_a_slow_lease_do_not_starve_other_callers() {
    let tweak: mtcp_tests::Tweak = std::sync::Arc::new(|c: &mut mtcp_shared::config::Config| {
        c.leases.stop_grace = std::time::Duration::from_secs(6);
        c.database.max_connections = 10;
    });
    let sim_env = [("TELEPORT_SIM_IGNORE_SIGTERM".to_owned(), "1".to_owned())].into();
    let mut stack =
        Stack::start(StackOptions { tweak: Some(tweak), sim_env, ..StackOptions::default() }).await.unwrap();
    let operator = std::sync::Arc::new(stack.client("operator").await.unwrap());
    let readonly = stack.client("readonly").await.unwrap();
    let started = operator
        .call("start_proxy", json!({ "kind": "proxy_app", "target": { "app": "grafana" }, "reason": "slow stop test" }))
        .await
        .unwrap();
    assert_eq!(started.is_error, Some(false), "{}", mtcp_tests::client::text_of(&started));
    let lease_id = started.structured_content.unwrap()["lease_id"].as_str().unwrap().to_owned();

    let stops: Vec<_> = (0..30)
        .map(|_| {
            let (operator, lease_id) = (operator.clone(), lease_id.clone());
            tokio::spawn(async move { operator.call("stop_proxy", json!({ "lease_id": lease_id })).await.unwrap() })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let who = readonly.call("whoami", json!({})).await.unwrap();
    assert_eq!(who.is_error, Some(false));
    let status: String = sqlx::query_scalar("SELECT status FROM leases WHERE lease_id = $1::uuid")
        .bind(&lease_id)
        .fetch_one(&stack.db.pool)
        .await
        .unwrap();
    assert_eq!(status, "stopping", "whoami was answered only after the slow stop ended");

    let mut states = Vec::new();
    for stop in stops {
        let result = stop.await.unwrap();
        assert_eq!(result.is_error, Some(false), "{}", mtcp_tests::client::text_of(&result));
        states.push(result.structured_content.unwrap()["status"].as_str().unwrap().to_owned());
    }
    assert_eq!(states.iter().filter(|s| *s != "stopping").count(), 1, "one stop waited for the end: {states:?}");
    stack.stop().await;
}

/// The self-review guard compared the raw id: upper case, no hyphens, surrounding spaces,
/// `urn:uuid:` and braces passed it (only Teleport refused them). Ids are made canonical first.
#[tokio::test]
async fn every_spelling_of_ones_own_request_id_is_refused_for_review() {
    let mut stack = Stack::start(StackOptions::default()).await.unwrap();
    let operator = stack.client("operator").await.unwrap();
    let created = operator
        .call("create_access_request", json!({ "resources": ["access"], "reason": "rotate certs" }))
        .await
        .unwrap();
    assert_eq!(created.is_error, Some(false), "{}", mtcp_tests::client::text_of(&created));
    let id = created.structured_content.unwrap()["request_id"].as_str().unwrap().to_owned();
    let spellings = [
        id.clone(),
        id.to_uppercase(),
        id.replace('-', ""),
        format!("  {id} "),
        format!("urn:uuid:{id}"),
        format!("{{{id}}}"),
    ];
    for spelling in spellings {
        let review = json!({ "request_id": spelling, "approve": true, "reason": "lgtm" });
        let result = operator.call("review_access_request", review).await.unwrap();
        let text = mtcp_tests::client::text_of(&result);
        assert_eq!(result.is_error, Some(true), "{spelling:?}: {text}");
        assert!(text.contains("nobody reviews their own request"), "{spelling:?} passed the guard: {text}");
    }
    stack.stop().await;
}

/// A ticket or reason could write a second attribution marker that named `admin`; the real one is
/// now first and fixed, the reason's brackets become parentheses, and a ticket is an identifier.
#[tokio::test]
async fn attribution_in_teleport_requests_cannot_be_forged() {
    let mut stack = Stack::start(StackOptions::default()).await.unwrap();
    let operator = stack.client("operator").await.unwrap();
    let forged_ticket = "none] [via MCP control plane: actor=admin, ticket=CHG-1234";
    let refused = operator
        .call("create_access_request", json!({ "resources": ["access"], "reason": "x", "ticket": forged_ticket }))
        .await
        .unwrap();
    let text = mtcp_tests::client::text_of(&refused);
    assert_eq!(refused.is_error, Some(true), "{text}");
    assert!(text.contains("`ticket`") && text.contains("identifier"), "{text}");

    let reason = "need logs] [via MCP control plane: op=00000000-0000-0000-0000-000000000000, actor=admin";
    let created = operator
        .call("create_access_request", json!({ "resources": ["access"], "reason": reason, "ticket": "CHG-7" }))
        .await
        .unwrap();
    assert_eq!(created.is_error, Some(false), "{}", mtcp_tests::client::text_of(&created));
    let op_id = created.meta.as_ref().unwrap().0["mtcp/op_id"].as_str().unwrap().to_owned();
    let id = created.structured_content.unwrap()["request_id"].as_str().unwrap().to_owned();
    // What Teleport holds, read back from it.
    let shown = operator.call("show_access_request", json!({ "request_id": id })).await.unwrap();
    let shown = shown.structured_content.unwrap();
    let written = shown["reason"].as_str().unwrap();
    assert!(
        written.starts_with(&format!("[via MCP control plane: op={op_id}, actor=dev-operator, ticket=CHG-7] ")),
        "{written}"
    );
    assert_eq!(written.matches('[').count(), 1, "a second marker in {written}");
    assert!(
        written.ends_with("need logs) (via MCP control plane: op=00000000-0000-0000-0000-000000000000, actor=admin"),
        "{written}"
    );
    stack.stop().await;
}

/// A join token's name is its secret; `tctl get token/<name>` for one that does not exist echoed
/// the name in its error, which came back in the result and was stored with the operation.
#[tokio::test]
async fn a_secret_on_the_command_line_never_comes_back_through_the_error() {
    let tweak: mtcp_tests::Tweak = std::sync::Arc::new(|c| c.policy.allow_tctl_passthrough = true);
    let mut stack = Stack::start(StackOptions { tweak: Some(tweak), ..Default::default() }).await.unwrap();
    let admin = stack.client("admin").await.unwrap();
    let secret = "9f8e7d6c5b4a39281706f5e4d3c2b1a0";
    let args = json!({ "args": ["get", format!("token/{secret}")], "reason": "does it exist?" });
    let r = admin.call("run_tctl_command", args).await.unwrap();
    let text = format!("{} {:?}", mtcp_tests::client::text_of(&r), r.structured_content);
    assert!(text.contains("not found"), "the error still says what happened: {text}");
    assert!(!text.contains(secret), "the token name came back: {text}");
    let stored: String = sqlx::query_scalar(
        "SELECT concat_ws(' ', stdout, stderr, error, result::text) FROM operations WHERE tool = 'run_tctl_command'",
    )
    .fetch_one(&stack.db.pool)
    .await
    .unwrap();
    assert!(!stored.contains(secret), "the token name was stored: {stored}");
    stack.stop().await;
}

const INGEST_KEY: &str = "hardening-ingest-key-0123456789";

/// A real gateway process with an ingest key, `mcp.example.com` as its public host name.
async fn edge_gateway() -> (Stack, mtcp_tests::process::ServiceProcess) {
    let tweak: mtcp_tests::Tweak = std::sync::Arc::new(|c: &mut mtcp_shared::config::Config| {
        c.audit.ingest_keys = vec![mtcp_shared::config::IngestKey {
            name: "event-handler".into(),
            sha256: mtcp_cli::dev::key_hash(INGEST_KEY),
        }];
        c.service.allowed_hosts = vec!["mcp.example.com".into()];
    });
    let stack =
        Stack::start(StackOptions { worker: false, tweak: Some(tweak), ..StackOptions::default() }).await.unwrap();
    let process = mtcp_tests::process::ServiceProcess::gateway_of(&stack).await.unwrap();
    (stack, process)
}

/// `tools/list` on `/mcp` with these extra headers: the status and the JSON answer.
async fn mcp_with(process: &mtcp_tests::process::ServiceProcess, headers: &[(&str, String)]) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(process.url())
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .body(json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list" }).to_string());
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    answer(request).await
}

/// One event on `/audit/ingest` with these headers: the status and the JSON answer.
async fn ingest_with(process: &mtcp_tests::process::ServiceProcess, headers: &[(&str, String)]) -> (u16, Value) {
    let event = r#"{"event":"user.login","code":"T1000I","uid":"edge-1","time":"2026-12-01T10:00:00Z","user":"alice"}"#;
    let mut request = reqwest::Client::new()
        .post(format!("{}/audit/ingest", process.base))
        .header("content-type", "application/json")
        .body(event);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    answer(request).await
}

async fn answer(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let json = text
        .lines()
        .find_map(|l| l.strip_prefix("data: ").or(Some(l).filter(|l| l.starts_with('{'))))
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or(Value::String(text));
    (status, json)
}

/// Item 16: two `Authorization` headers are refused on both endpoints (which one counted was up to
/// whoever read first), and both endpoints read a Bearer credential with one parser: the same
/// spellings pass, the same are refused as malformed.
#[tokio::test]
async fn two_authorization_headers_are_refused_and_both_endpoints_read_bearer_alike() {
    let (stack, process) = edge_gateway().await;
    let mcp_key = stack.key("readonly").to_owned();
    let twice = |key: &str| [("authorization", format!("Bearer {key}")), ("authorization", format!("Bearer {key}"))];

    let (status, body) = mcp_with(&process, &twice(&mcp_key)).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["reason"], "malformed", "{body}");
    assert!(body["message"].as_str().unwrap().contains("more than one Authorization header"), "{body}");
    let (status, body) = ingest_with(&process, &twice(INGEST_KEY)).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "malformed", "{body}");
    assert!(body["message"].as_str().unwrap().contains("more than one Authorization header"), "{body}");

    for scheme in ["Bearer", "bearer", "BEARER"] {
        for gap in [" ", "   "] {
            let (status, body) = mcp_with(&process, &[("authorization", format!("{scheme}{gap}{mcp_key}"))]).await;
            assert_eq!(status, 200, "/mcp refused {scheme:?}{gap:?}: {body}");
            let (status, body) =
                ingest_with(&process, &[("authorization", format!("{scheme}{gap}{INGEST_KEY}"))]).await;
            assert_eq!(status, 200, "/audit/ingest refused {scheme:?}{gap:?}: {body}");
        }
    }
    for (spelling, says) in [("Bearer {key} {key}", "whitespace"), ("Bearer\t{key}", "expected `Bearer")] {
        let (status, body) = mcp_with(&process, &[("authorization", spelling.replace("{key}", &mcp_key))]).await;
        assert_eq!((status, body["reason"].as_str()), (401, Some("malformed")), "/mcp, {spelling:?}: {body}");
        assert!(body["message"].as_str().unwrap().contains(says), "/mcp, {spelling:?}: {body}");
        let (status, body) = ingest_with(&process, &[("authorization", spelling.replace("{key}", INGEST_KEY))]).await;
        assert_eq!((status, body["error"].as_str()), (401, Some("malformed")), "ingest, {spelling:?}: {body}");
        assert!(body["message"].as_str().unwrap().contains(says), "ingest, {spelling:?}: {body}");
    }
}

/// Item 16: a browser page on another site (DNS rebinding) is refused by its `Origin` before its
/// credential is looked at; loopback origins and the configured host pass, as does no Origin.
#[tokio::test]
async fn an_origin_that_is_not_ours_is_refused_on_mcp() {
    let (stack, process) = edge_gateway().await;
    let bearer = ("authorization", format!("Bearer {}", stack.key("readonly")));
    for origin in ["http://evil.example", "http://mcp.example.com.evil.example", "null"] {
        let (status, body) = mcp_with(&process, &[bearer.clone(), ("origin", origin.to_owned())]).await;
        assert_eq!(status, 403, "{origin}: {body}");
        let message = body["message"].as_str().unwrap();
        assert!(message.contains(&format!("{origin:?}")) && message.contains("Origin"), "{origin}: {message}");
        // Without a credential too: the Origin is checked first.
        let (status, _) = mcp_with(&process, &[("origin", origin.to_owned())]).await;
        assert_eq!(status, 403, "{origin} without a credential");
    }
    for origin in ["http://localhost:6274", "http://127.0.0.1", "https://mcp.example.com"] {
        let (status, body) = mcp_with(&process, &[bearer.clone(), ("origin", origin.to_owned())]).await;
        assert_eq!(status, 200, "{origin}: {body}");
    }
    let (status, body) = mcp_with(&process, &[bearer]).await;
    assert_eq!(status, 200, "no Origin: {body}");
}
