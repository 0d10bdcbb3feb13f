//! Actors of different credential sources never share records (issue 14 item 5): a JWT subject is
//! the actor `oidc:<subject>`, so a token with `sub: dev-admin` is not the API key's `dev-admin`,
//! and `sub: anonymous` is not the actor of refused logins; API-key actors that would enter the
//! JWT namespace or take a reserved name are refused by the gateway at start and by `mtcp keys`.

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use mtcp_tests::client::text_of;
use mtcp_tests::process::binary;
use mtcp_tests::{McpClient, Stack, StackOptions, TestDb, Tweak, oidc};
use serde_json::json;

async fn stack() -> Stack {
    let tweak: Tweak = Arc::new(|c| c.auth.oidc = Some(oidc::config()));
    Stack::start(StackOptions { tweak: Some(tweak), ..Default::default() }).await.unwrap()
}

fn op_id(result: &rmcp::model::CallToolResult) -> String {
    result.meta.as_ref().unwrap().0["mtcp/op_id"].as_str().unwrap().to_owned()
}

/// Before: the token's actor was `dev-admin`, the API key's actor, so `get_operation` showed it
/// admin's result although the token's role is readonly.
#[tokio::test]
async fn a_token_whose_subject_is_an_api_key_actor_does_not_see_its_operations() {
    let mut stack = stack().await;
    let admin = stack.client("admin").await.unwrap();
    let listed = admin.call("list_nodes", json!({})).await.unwrap();
    assert_eq!(listed.is_error, Some(false), "{}", text_of(&listed));
    let admins_op = op_id(&listed);

    let impostor = McpClient::connect(&stack.url, Some(&oidc::token("dev-admin", "readonly"))).await.unwrap();
    let seen = impostor.call("get_operation", json!({ "op_id": admins_op })).await.unwrap();
    assert_eq!(seen.is_error, Some(true), "the token read admin's operation: {}", text_of(&seen));
    assert!(text_of(&seen).contains("is visible to you"), "{}", text_of(&seen));
    let who = impostor.call("whoami", json!({})).await.unwrap().structured_content.unwrap();
    assert_eq!(who["actor"], "oidc:dev-admin", "{who}");

    // Its own calls are recorded under its own, namespaced actor; the key still sees its own.
    let own = impostor.call("list_nodes", json!({})).await.unwrap();
    let actor: String = sqlx::query_scalar("SELECT actor FROM operations WHERE op_id = $1::uuid")
        .bind(op_id(&own))
        .fetch_one(&stack.db.pool)
        .await
        .unwrap();
    assert_eq!(actor, "oidc:dev-admin");
    let mine = admin.call("get_operation", json!({ "op_id": admins_op })).await.unwrap();
    assert_eq!(mine.is_error, Some(false), "{}", text_of(&mine));
    impostor.close().await;
    admin.close().await;
    stack.stop().await;
}

/// Before: refused logins without a named actor were recorded as `anonymous`, and a token with
/// `sub: anonymous` was that actor, so it read them (remote addresses, reasons).
#[tokio::test]
async fn a_token_with_subject_anonymous_does_not_see_refused_logins() {
    let mut stack = stack().await;
    let refused = reqwest::Client::new()
        .post(&stack.url)
        .bearer_auth("mtcp_not_a_key")
        .header("accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 401);
    let mut recorded: Option<String> = None;
    for _ in 0..50 {
        recorded = sqlx::query_scalar(
            "SELECT op_id::text FROM operations WHERE capability = 'auth.authenticate' AND actor = 'anonymous'",
        )
        .fetch_optional(&stack.db.pool)
        .await
        .unwrap();
        if recorded.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let refused_op = recorded.expect("the refused login is recorded as anonymous");

    let anonymous = McpClient::connect(&stack.url, Some(&oidc::token("anonymous", "readonly"))).await.unwrap();
    let seen = anonymous.call("get_operation", json!({ "op_id": refused_op })).await.unwrap();
    assert_eq!(seen.is_error, Some(true), "the token read a refused login: {}", text_of(&seen));
    assert!(text_of(&seen).contains("is visible to you"), "{}", text_of(&seen));
    anonymous.close().await;
    stack.stop().await;
}

/// Before: both configurations started (only printability was checked).
#[test]
fn the_gateway_refuses_to_start_with_a_key_actor_in_the_jwt_namespace_or_reserved() {
    let hash = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8";
    for (actor, says) in [("'oidc:x'", "contains ':'"), ("anonymous", "reserved"), ("conformance-suite", "reserved")] {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.yaml");
        std::fs::write(
            &config,
            format!(
                "database: {{ url: 'postgres://nobody@127.0.0.1:1/none' }}\n\
                 auth: {{ api_keys: [ {{ actor: alice, role: admin, sha256: '{hash}' }}, {{ actor: {actor}, role: readonly, sha256: '{}' }} ] }}\n",
                "0".repeat(64)
            ),
        )
        .unwrap();
        let out = Command::new(binary("mtcp-gateway"))
            .arg("--config")
            .arg(&config)
            .env_remove("DATABASE_URL")
            .env("MTCP_SERVICE__PORT", "0")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{actor}: the gateway started");
        assert!(stderr.contains("auth.api_keys[1].actor") && stderr.contains(says), "{actor}: {stderr}");
    }
}

/// Before: `mtcp keys create` stored such keys.
#[tokio::test]
async fn mtcp_keys_create_refuses_the_same_names() {
    let db = TestDb::new().await.unwrap();
    for (actor, says) in [("oidc:x", "contains ':'"), ("anonymous", "reserved")] {
        let out = Command::new(binary("mtcp"))
            .args(["keys", "create", "--actor", actor, "--role", "readonly"])
            .env("DATABASE_URL", &db.url)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && stderr.contains("--actor") && stderr.contains(says), "{actor}: {stderr}");
    }
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM api_keys").fetch_one(&db.pool).await.unwrap();
    assert_eq!(stored, 0, "a refused key was stored");
}

/// A database key stored before names were checked (or written by hand) for `oidc:x` would act as
/// the token subject `x`: before, it authenticated as that actor; now it is refused.
#[tokio::test]
async fn a_stored_key_for_a_namespaced_actor_is_refused() {
    use sha2::{Digest, Sha256};
    let mut stack = stack().await;
    let key = "mtcp_legacy-key-for-a-token-subject";
    sqlx::query("INSERT INTO api_keys (key_id, actor, role, kind, sha256) VALUES (gen_random_uuid(), 'oidc:x', 'readonly', 'user', $1)")
        .bind(Sha256::digest(key.as_bytes()).to_vec())
        .execute(&stack.db.pool)
        .await
        .unwrap();
    let answer = reqwest::Client::new()
        .post(&stack.url)
        .bearer_auth(key)
        .header("accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 401);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["reason"], "unusable_key_actor", "{body}");
    assert!(body["message"].as_str().unwrap().contains("revoke the key"), "{body}");
    stack.stop().await;
}
