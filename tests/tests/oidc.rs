//! OIDC/JWT bearer tokens end to end: a gateway configured with an issuer, audience and JWKS file;
//! tokens signed with test-only keys; roles from a claim or from policy bindings; 401 and 403.

use std::sync::Arc;
use std::time::Duration;

use mtcp_tests::oidc::{claims, sign};
use mtcp_tests::{McpClient, Stack, StackOptions, Tweak};
use serde_json::{Value, json};

async fn stack() -> Stack {
    let dir = tempfile::tempdir().unwrap().keep();
    let policy = dir.join("policy.yaml");
    std::fs::write(
        &policy,
        "bindings:\n  - { group: sre, role: operator }\n  - { claim: { name: dept, value: audit }, role: readonly }\n  \
         - { actor: 'oidc:frank', role: user }\n",
    )
    .unwrap();
    let tweak: Tweak = Arc::new(move |c| {
        c.policy.path = Some(policy.clone());
        c.auth.oidc = Some(mtcp_tests::oidc::config());
    });
    Stack::start(StackOptions { tweak: Some(tweak), ..Default::default() }).await.unwrap()
}

async fn raw_status(stack: &Stack, token: &str) -> (u16, Value, String) {
    let r = reqwest::Client::new()
        .post(&stack.url)
        .bearer_auth(token)
        .header("Accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let challenge = r.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let body = if status == 200 { Value::Null } else { r.json().await.unwrap_or(Value::Null) };
    (status, body, challenge)
}

#[tokio::test]
async fn tokens_map_to_actors_and_roles_from_claims_or_bindings() {
    let mut stack = stack().await;
    for (key, kid, extra, actor, role) in [
        ("test-only-rs256.pem", "rs-1", json!({ "mtcp_role": "admin" }), "alice", "admin"),
        ("test-only-es256.pem", "ec-1", json!({ "groups": ["dev", "sre"] }), "bob", "operator"),
        ("test-only-rs256.pem", "rs-1", json!({ "dept": "audit" }), "carol", "readonly"),
        // A binding names a JWT subject with its source prefix.
        ("test-only-rs256.pem", "rs-1", json!({}), "frank", "user"),
    ] {
        let token = sign(key, kid, &claims(actor, extra));
        let client = McpClient::connect(&stack.url, Some(&token)).await.unwrap();
        let who = client.call("whoami", json!({})).await.unwrap().structured_content.unwrap();
        // A JWT's actor is namespaced by its source: it can never be an API key's actor.
        let expected = format!("oidc:{actor}");
        assert_eq!((who["actor"].as_str(), who["role"].as_str()), (Some(&*expected), Some(role)), "{who}");
        client.close().await;
    }
    stack.stop().await;
}

#[tokio::test]
async fn bad_tokens_are_401_and_roleless_or_scopeless_ones_403_all_recorded() {
    let mut stack = stack().await;
    let now = chrono::Utc::now().timestamp();
    let cases = [
        (
            "bad signature",
            sign("test-only-rs256-attacker.pem", "rs-1", &claims("mallory", json!({}))),
            401,
            "bad_signature",
        ),
        (
            "wrong audience",
            sign("test-only-rs256.pem", "rs-1", &claims("m", json!({ "aud": "other" }))),
            401,
            "wrong_audience",
        ),
        (
            "wrong issuer",
            sign("test-only-rs256.pem", "rs-1", &claims("m", json!({ "iss": "https://evil/" }))),
            401,
            "wrong_issuer",
        ),
        ("expired", sign("test-only-rs256.pem", "rs-1", &claims("m", json!({ "exp": now - 600 }))), 401, "expired"),
        ("unknown key id", sign("test-only-rs256.pem", "nope", &claims("m", json!({}))), 401, "unknown_key"),
        ("no role", sign("test-only-rs256.pem", "rs-1", &claims("dave", json!({ "groups": ["dev"] }))), 403, "no_role"),
        (
            "no scope",
            sign("test-only-rs256.pem", "rs-1", &claims("erin", json!({ "scope": "openid", "mtcp_role": "admin" }))),
            403,
            "insufficient_scope",
        ),
    ];
    for (what, token, status, reason) in &cases {
        let (got, body, challenge) = raw_status(&stack, token).await;
        assert_eq!(got, *status, "{what}: {body}");
        assert_eq!(body["reason"], *reason, "{what}: {body}");
        assert!(challenge.contains("resource_metadata="), "{what}: {challenge}");
        if *status == 403 {
            assert!(challenge.contains("insufficient_scope"), "{what}: {challenge}");
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let recorded: Vec<(String, Value)> =
        sqlx::query_as("SELECT actor, inputs FROM operations WHERE capability = 'auth.authenticate'")
            .fetch_all(&stack.db.pool)
            .await
            .unwrap();
    assert_eq!(recorded.len(), cases.len(), "{recorded:?}");
    let dump = format!("{recorded:?}");
    for (_, token, _, _) in &cases {
        let signature = token.rsplit('.').next().unwrap();
        assert!(!dump.contains(signature), "a presented token reached the trail");
    }
    assert!(recorded.iter().any(|(a, _)| a == "oidc:dave"), "a verified but roleless caller is named: {recorded:?}");
    stack.stop().await;
}
