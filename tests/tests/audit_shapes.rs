//! Teleport's real audit event shapes end to end: events without `UserMetadata` (reviews, state
//! changes, certificates) are stored with their actor, and an `auth_preference.update` (which
//! carries no settings) is judged against the cluster's current `cluster_auth_preference`, read
//! through the runner from the simulator in the release it imitates.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use mtcp_shared::config::IngestKey;
use mtcp_tests::sim::audit_events as generated;
use mtcp_tests::{Stack, StackOptions, Tweak};
use serde_json::{Value, json};

const INGEST_KEY: &str = "ingest-test-key-shapes-0123";

/// A cluster whose auth preference spec is `spec`.
fn state(spec: Value) -> String {
    json!({
        "cluster_name": "teleport.example.com",
        "version": "18.1.4",
        "roles": [], "users": [], "tokens": [],
        "auth_preference": {"kind": "cluster_auth_preference", "version": "v2",
            "metadata": {"name": "cluster-auth-preference"}, "spec": spec}
    })
    .to_string()
}

async fn stack(version: &str, spec: Value, dir: &tempfile::TempDir) -> Stack {
    let path = dir.path().join("state.json");
    std::fs::write(&path, state(spec)).unwrap();
    let tweak: Tweak = Arc::new(|c| {
        c.audit.ingest_keys =
            vec![IngestKey { name: "event-handler".into(), sha256: mtcp_cli::dev::key_hash(INGEST_KEY) }];
        c.audit.retention = Duration::from_secs(100 * 365 * 24 * 3600);
    });
    let sim_env = BTreeMap::from([("TELEPORT_SIM_VERSION".to_owned(), version.to_owned())]);
    // A whole generated day is ingested: give the analysis room on a busy machine.
    let call_budget = Duration::from_secs(120);
    Stack::start(StackOptions { tweak: Some(tweak), sim_env, sim_state: Some(path), call_budget, ..Default::default() })
        .await
        .unwrap()
}

/// Post a body; a 503 (the store busy on a loaded machine) is retried, as the plugin retries.
async fn ingest(stack: &Stack, body: String) {
    for attempt in 1.. {
        let r = reqwest::Client::new()
            .post(format!("{}/audit/ingest", stack.base))
            .bearer_auth(INGEST_KEY)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        if r.status() == 503 && attempt < 5 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        return;
    }
}

/// The finding about eve's auth preference change.
async fn eves_change(stack: &Stack) -> Value {
    let auditor = stack.client("readonly").await.unwrap();
    let r = auditor.call("detect_audit_anomalies", json!({})).await.unwrap();
    assert_eq!(r.is_error, Some(false), "{}", mtcp_tests::client::text_of(&r));
    let report = r.structured_content.unwrap();
    let found = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["subject"] == "eve"
                && f["signal"].as_str().is_some_and(|s| s.contains("auth_preference") || s.contains("second_factor"))
        })
        .cloned();
    found.unwrap_or_else(|| panic!("no finding for eve's change: {report}"))
}

#[tokio::test]
async fn an_auth_preference_change_is_judged_by_the_current_settings_on_17_and_18() {
    // 17.x: the change left MFA off → critical.
    let dir = tempfile::tempdir().unwrap();
    let mut weak = stack("17.5.2", json!({"type": "local", "second_factor": "off"}), &dir).await;
    ingest(&weak, generated(11, &["weakened_auth"])).await;
    let f = eves_change(&weak).await;
    assert_eq!(
        (f["signal"].as_str(), f["severity"].as_str()),
        (Some("weakened_second_factor"), Some("critical")),
        "{f}"
    );
    assert!(f["description"].as_str().unwrap().contains("only a password"), "{f}");
    weak.stop().await;

    // 18.x: the same event, but WebAuthn is still enforced → a low notice, not a weakening.
    let dir = tempfile::tempdir().unwrap();
    let mut strong = stack(
        "18.3.0",
        json!({"type": "local", "second_factors": ["webauthn"], "webauthn": {"rp_id": "teleport.example.com"}}),
        &dir,
    )
    .await;
    ingest(&strong, generated(11, &["weakened_auth"])).await;
    let f = eves_change(&strong).await;
    assert_eq!((f["signal"].as_str(), f["severity"].as_str()), (Some("auth_preference_changed"), Some("low")), "{f}");
    assert!(f["description"].as_str().unwrap().contains("still enforced"), "{f}");
    assert_eq!(f["details"]["second_factors"], json!(["webauthn"]), "{f}");
    strong.stop().await;
}

#[tokio::test]
async fn reviews_updates_and_certificates_are_stored_with_their_actor() {
    let dir = tempfile::tempdir().unwrap();
    let mut stack = stack("18.3.0", json!({"type": "local", "second_factors": ["webauthn"]}), &dir).await;
    ingest(&stack, generated(12, &["impersonation", "self_approval"])).await;
    // The generated day has reviews only on working days: add the project's composed review example.
    ingest(&stack, mtcp_tests::sim::teleport_fixture("composed/audit-access_request.review.json")).await;
    let actors: Vec<(String, String, Value)> = sqlx::query_as(
        r#"SELECT event, coalesce("user", ''), raw FROM audit_events
           WHERE event IN ('access_request.review', 'access_request.update', 'cert.create')"#,
    )
    .fetch_all(&stack.db.pool)
    .await
    .unwrap();
    let mut seen = BTreeMap::new();
    for (event, user, raw) in &actors {
        assert!(raw.get("user").is_none(), "Teleport's {event} has no top-level user: {raw}");
        let expected = match event.as_str() {
            "access_request.review" => &raw["reviewer"],
            "access_request.update" => &raw["updated_by"],
            _ => &raw["identity"]["user"],
        };
        assert_eq!(Some(user.as_str()), expected.as_str(), "{event}: {raw}");
        *seen.entry(event.clone()).or_insert(0) += 1;
    }
    assert_eq!(seen.len(), 3, "reviews, updates and certificates were generated: {seen:?}");
    // The self-approval (sam approving sam with tctl) is found from updated_by.
    let auditor = stack.client("readonly").await.unwrap();
    let report = auditor.call("detect_audit_anomalies", json!({})).await.unwrap().structured_content.unwrap();
    let findings = report["findings"].as_array().unwrap();
    assert!(findings.iter().any(|f| f["signal"] == "self_approval" && f["subject"] == "sam"), "{report}");
    assert!(findings.iter().any(|f| f["signal"] == "impersonation" && f["subject"] == "ivan"), "{report}");
    stack.stop().await;
}
