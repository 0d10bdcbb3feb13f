//! Identity and policy end to end: database API keys managed with `mtcp keys`, refused
//! authentications in the trail, the policy file with reload on SIGHUP, and rate limits that hold
//! across two gateway processes.

use std::process::Command;
use std::time::Duration;

use mtcp_tests::client::text_of;
use mtcp_tests::process::{ServiceProcess, binary, free_port};
use mtcp_tests::{McpClient, TestDb};
use serde_json::{Value, json};

fn mtcp(db: &TestDb, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(binary("mtcp")).args(args).env("DATABASE_URL", &db.url).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn key_from(stdout: &str) -> String {
    stdout.lines().find(|l| l.starts_with("mtcp_")).expect("the key is printed once").to_owned()
}

fn write_config(dir: &std::path::Path, db: &TestDb, extra: &str) -> std::path::PathBuf {
    let path = dir.join("config.yaml");
    std::fs::write(&path, format!("database: {{ url: \"{}\" }}\n{extra}", db.url)).unwrap();
    path
}

async fn whoami(url: &str, key: &str) -> anyhow::Result<rmcp::model::CallToolResult> {
    let c = McpClient::connect(url, Some(key)).await?;
    let r = c.call("whoami", json!({})).await;
    c.close().await;
    r
}

#[tokio::test]
async fn database_keys_are_created_listed_used_expired_and_revoked() {
    let db = TestDb::new().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &db, "");
    let (ok, out, err) =
        mtcp(&db, &["keys", "create", "--actor", "alice", "--role", "operator", "--description", "laptop"]);
    assert!(ok, "{err}");
    let key = key_from(&out);
    let key_id = out.lines().find_map(|l| l.strip_prefix("key id:")).unwrap().trim().to_owned();
    let (ok, _, err) = mtcp(&db, &["keys", "create", "--actor", "bob", "--role", "wizard"]);
    assert!(!ok && err.contains("wizard") && err.contains("operator"), "{err}");

    let gw = ServiceProcess::gateway(&config, free_port()).await.unwrap();
    let who = whoami(&gw.url(), &key).await.unwrap().structured_content.unwrap();
    assert_eq!((who["actor"].as_str(), who["role"].as_str()), (Some("alice"), Some("operator")));

    // Listed with its last use, never with the key.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, list, _) = mtcp(&db, &["keys", "list"]);
    assert!(list.contains(&key_id) && list.contains("alice") && list.contains("laptop"), "{list}");
    assert!(!list.contains(&key), "the key itself is never listed");
    let used: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT last_used_at FROM api_keys WHERE actor = 'alice'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert!(used.is_some(), "last use recorded");

    // Expiry and revocation take effect at once: 401 with a reason, recorded without the key.
    let (_, out, _) = mtcp(&db, &["keys", "create", "--actor", "carol", "--role", "readonly", "--expires-in", "1s"]);
    let short = key_from(&out);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (ok, _, err) = mtcp(&db, &["keys", "revoke", &key_id]);
    assert!(ok, "{err}");
    let http = reqwest::Client::new();
    for (k, reason) in [(&key, "revoked_key"), (&short, "expired_key"), (&"mtcp_nonsense".to_owned(), "unknown_key")] {
        let r = http
            .post(gw.url())
            .bearer_auth(k)
            .header("Accept", "application/json, text/event-stream")
            .json(&json!({"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["reason"], reason, "{body}");
    }
    // Refusals are recorded off the request path: wait for all three (in any order).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let trail: Vec<(String, String, Value)> = loop {
        let trail: Vec<(String, String, Value)> = sqlx::query_as(
            "SELECT actor, status, inputs FROM operations WHERE capability = 'auth.authenticate' ORDER BY created_at",
        )
        .fetch_all(&db.pool)
        .await
        .unwrap();
        if trail.len() >= 3 || std::time::Instant::now() > deadline {
            break trail;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(trail.len(), 3, "{trail:?}");
    let actors: Vec<&str> = trail.iter().map(|t| t.0.as_str()).collect();
    assert!(actors.contains(&"alice"), "a revoked key's owner is named: {actors:?}");
    assert!(actors.contains(&"carol"), "an expired key's owner is named: {actors:?}");
    assert!(trail.iter().all(|(_, s, _)| s == "denied"));
    let dump: String =
        sqlx::query_scalar("SELECT string_agg(t::text, ' ') FROM operations t").fetch_one(&db.pool).await.unwrap();
    for secret in [&key, &short] {
        assert!(!dump.contains(secret.as_str()), "a presented key reached the database");
    }
}

const POLICY_V1: &str = r#"
roles:
  auditor:
    grants: ["inventory.*", "admin.operations"]
    constraints: { rate_limit: { requests: 5, per: 1m } }
"#;
const POLICY_V2: &str = r#"
roles:
  auditor:
    grants: ["inventory.nodes"]
    constraints: { rate_limit: { requests: 5, per: 1m } }
"#;

fn key_line(actor: &str, role: &str, key: &str) -> String {
    format!("    - {{ actor: {actor}, role: {role}, sha256: \"{}\" }}\n", mtcp_cli::dev::key_hash(key))
}

#[tokio::test]
async fn sighup_reloads_the_policy_and_a_bad_file_keeps_the_old_one() {
    let db = TestDb::new().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    std::fs::write(&policy, POLICY_V1).unwrap();
    let key = mtcp_cli::dev::new_api_key();
    // Custom roles are accepted on config keys only once the policy defines them, so this key is
    // created in the database.
    let (ok, out, err) = mtcp(
        &db,
        &[
            "keys",
            "create",
            "--actor",
            "audrey",
            "--role",
            "auditor",
            "--config",
            write_config(dir.path(), &db, &format!("policy: {{ path: {} }}\n", policy.display())).to_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    let audrey = key_from(&out);
    let config = write_config(
        dir.path(),
        &db,
        &format!("policy: {{ path: {} }}\nauth:\n  api_keys:\n{}", policy.display(), key_line("root", "admin", &key)),
    );
    let gw = ServiceProcess::gateway(&config, free_port()).await.unwrap();
    let client = McpClient::connect(&gw.url(), Some(&audrey)).await.unwrap();
    let v1 = client.call("whoami", json!({})).await.unwrap().structured_content.unwrap();
    assert!(client.tool_names().await.unwrap().contains(&"search_operations".to_owned()));

    std::fs::write(&policy, POLICY_V2).unwrap();
    gw.signal("HUP");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let v2 = client.call("whoami", json!({})).await.unwrap().structured_content.unwrap();
    assert_ne!(v1["policy_version"], v2["policy_version"]);
    let names = client.tool_names().await.unwrap();
    assert!(!names.contains(&"search_operations".to_owned()) && names.contains(&"list_nodes".to_owned()), "{names:?}");

    std::fs::write(&policy, "roles:\n  auditor:\n    grants: [inventory.nodez]\n").unwrap();
    gw.signal("HUP");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let v3 = client.call("whoami", json!({})).await.unwrap().structured_content.unwrap();
    assert_eq!(v2["policy_version"], v3["policy_version"], "the rejected file changed nothing");
    client.close().await;
}

#[tokio::test]
async fn the_rate_limit_holds_across_two_gateway_processes() {
    let db = TestDb::new().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    std::fs::write(&policy, POLICY_V1).unwrap();
    let cfg = write_config(dir.path(), &db, &format!("policy: {{ path: {} }}\n", policy.display()));
    let (_, out, _) =
        mtcp(&db, &["keys", "create", "--actor", "audrey", "--role", "auditor", "--config", cfg.to_str().unwrap()]);
    let audrey = key_from(&out);
    let a = ServiceProcess::gateway(&cfg, free_port()).await.unwrap();
    let b = ServiceProcess::gateway(&cfg, free_port()).await.unwrap();
    let ca = McpClient::connect(&a.url(), Some(&audrey)).await.unwrap();
    let cb = McpClient::connect(&b.url(), Some(&audrey)).await.unwrap();
    let mut allowed = 0;
    let mut refusal = None;
    for i in 0..8 {
        let c = if i % 2 == 0 { &ca } else { &cb };
        let r = c.call("whoami", json!({})).await.unwrap();
        if r.is_error == Some(true) {
            refusal.get_or_insert(text_of(&r));
        } else {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 5, "5 calls per minute, whichever gateway serves them");
    let refusal = refusal.unwrap();
    assert!(refusal.contains("rate limit") && refusal.contains("retry after"), "{refusal}");
    let denied: i64 =
        sqlx::query_scalar("SELECT count(*) FROM operations WHERE actor = 'audrey' AND status = 'denied'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(denied, 3, "every refusal is recorded");
}

/// Service identities (e.g. `teleport-ai-prod`) that nothing binds are operators, as the product
/// has always documented: a configured service key without a role, and a database service key
/// created without `--role`. A person without a role still has none (403).
#[tokio::test]
async fn service_identities_default_to_operator() {
    let db = TestDb::new().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (service_key, user_key) = (mtcp_cli::dev::new_api_key(), mtcp_cli::dev::new_api_key());
    let config = write_config(
        dir.path(),
        &db,
        &format!(
            "auth:\n  api_keys:\n    - {{ actor: teleport-ai-prod, kind: service, sha256: \"{}\" }}\n    - {{ actor: frank, sha256: \"{}\" }}\n",
            mtcp_cli::dev::key_hash(&service_key),
            mtcp_cli::dev::key_hash(&user_key)
        ),
    );
    let (ok, out, err) = mtcp(&db, &["keys", "create", "--actor", "teleport-ai-dev", "--kind", "service"]);
    assert!(ok && out.contains("(role operator)"), "{out}{err}");
    let db_service_key = key_from(&out);
    let (ok, _, err) = mtcp(&db, &["keys", "create", "--actor", "gina"]);
    assert!(!ok && err.contains("--role"), "a person needs a role: {err}");

    let gw = ServiceProcess::gateway(&config, free_port()).await.unwrap();
    for (key, actor) in [(&service_key, "teleport-ai-prod"), (&db_service_key, "teleport-ai-dev")] {
        let who = whoami(&gw.url(), key).await.unwrap().structured_content.unwrap();
        assert_eq!(
            (who["actor"].as_str(), who["kind"].as_str(), who["role"].as_str()),
            (Some(actor), Some("service"), Some("operator")),
            "{who}"
        );
    }
    let r = reqwest::Client::new()
        .post(gw.url())
        .bearer_auth(&user_key)
        .header("Accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "a person that nothing binds has no role");
}
