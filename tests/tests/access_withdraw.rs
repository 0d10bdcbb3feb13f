//! Withdrawing access requests against the simulator as Teleport 17 and 18: what Teleport really
//! did is what the result says — deleted (only on tctl's confirmation), locked until when, and
//! nothing deleted when an approval races the delete of a pending request.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use mtcp_tests::client::text_of;
use mtcp_tests::sim::run as sim;
use mtcp_tests::{Stack, StackOptions};
use serde_json::{Value, json};

async fn stack(state_dir: &Path, version: &str, extra: &[(&str, String)]) -> Stack {
    let mut sim_env = BTreeMap::from([
        ("TELEPORT_SIM_STATE_DIR".to_owned(), state_dir.display().to_string()),
        ("TELEPORT_SIM_VERSION".to_owned(), version.to_owned()),
    ]);
    sim_env.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
    Stack::start(StackOptions { sim_env, ..Default::default() }).await.unwrap()
}

/// An approved request of alice's, made and approved by humans.
fn approved(dir: &Path) -> String {
    let id = sim(dir, &["tctl", "requests", "create", "alice", "--roles", "access", "--reason", "INC-1"]);
    sim(dir, &["tctl", "requests", "approve", &id, "--reason", "ok"]);
    id
}

fn locks(dir: &Path) -> Vec<Value> {
    serde_json::from_str::<Value>(&sim(dir, &["tctl", "get", "locks", "--format=json"]))
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn an_approved_request_is_deleted_and_on_request_its_access_locked() {
    for version in ["17.7.1", "18.3.0"] {
        let dir = tempfile::tempdir().unwrap();
        let plain = approved(dir.path());
        let revoked = approved(dir.path());
        let argv_log = dir.path().join("argv.jsonl");
        let mut stack = stack(dir.path(), version, &[("TELEPORT_SIM_ARGV_LOG", argv_log.display().to_string())]).await;
        let admin = stack.client("admin").await.unwrap();

        // Deleting alone: gone from Teleport, and the result says certificates still work.
        let r = admin.call("drop_access_request", json!({ "request_id": plain, "reason": "done" })).await.unwrap();
        assert_eq!(r.is_error, Some(false), "{version}: {}", text_of(&r));
        let result = r.structured_content.unwrap();
        assert_eq!(result["deleted"], true, "{result}");
        assert!(result.get("lock").is_none(), "{result}");
        assert!(result["summary"].as_str().unwrap().contains("pass `revoke` to lock them"), "{result}");
        let listed = sim(dir.path(), &["tctl", "requests", "ls", "--format=json"]);
        assert!(!listed.contains(&plain), "{version}: the request is gone from Teleport");
        assert!(locks(dir.path()).is_empty());

        // With `revoke`: a lock on the request, with our message and a TTL, then the delete.
        let args = json!({
            "request_id": revoked, "reason": "offboarding", "ticket": "SEC-9",
            "revoke": { "reason": "access no longer needed", "ttl_seconds": 3600 }
        });
        let before = chrono::Utc::now();
        let r = admin.call("drop_access_request", args).await.unwrap();
        assert_eq!(r.is_error, Some(false), "{version}: {}", text_of(&r));
        let result = r.structured_content.unwrap();
        assert_eq!((result["deleted"].as_bool(), result["previous_state"].as_str()), (Some(true), Some("approved")));
        let lock = &result["lock"];
        let all = locks(dir.path());
        assert_eq!(all.len(), 1, "{version}: {all:?}");
        assert_eq!(all[0]["metadata"]["name"], lock["name"]);
        assert_eq!(all[0]["spec"]["target"], json!({ "access_request": revoked }));
        let message = all[0]["spec"]["message"].as_str().unwrap();
        assert!(message.starts_with("[via MCP control plane: op="), "{message}");
        assert!(message.ends_with("] access no longer needed"), "{message}");
        let expires: chrono::DateTime<chrono::Utc> = all[0]["spec"]["expires"].as_str().unwrap().parse().unwrap();
        let reported: chrono::DateTime<chrono::Utc> = lock["expires"].as_str().unwrap().parse().unwrap();
        assert!((expires - reported).num_seconds().abs() <= 5, "{expires} vs {reported}");
        assert!((expires - before - chrono::Duration::hours(1)).num_seconds().abs() <= 30, "{expires}");
        assert!(result["summary"].as_str().unwrap().contains("locked the access"), "{result}");

        // What ran: a lock, then deletes; never `tsh request drop`, which changes nothing in Teleport.
        let argv = std::fs::read_to_string(&argv_log).unwrap();
        let lock_at = argv.find(&format!("\"lock\",\"--access-request={revoked}\"")).expect(&argv);
        let rm_at = argv.find(&format!("\"rm\",\"--force\",\"{revoked}\"")).expect(&argv);
        assert!(lock_at < rm_at, "the lock comes first: {argv}");
        assert!(!argv.contains("\"drop\""), "{argv}");
        stack.stop().await;
    }
}

#[tokio::test]
async fn revoke_is_validated_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let id = approved(dir.path());
    let mut stack = stack(dir.path(), "18.3.0", &[]).await;
    let admin = stack.client("admin").await.unwrap();
    for (revoke, why) in [
        (json!({ "reason": " " }), "`revoke.reason` must not be empty"),
        (json!({ "reason": "x", "ttl_seconds": 0 }), "`revoke.ttl_seconds`"),
        (json!({ "reason": "x", "ttl_seconds": 99_999_999 }), "`revoke.ttl_seconds`"),
    ] {
        let r = admin
            .call("drop_access_request", json!({ "request_id": id, "reason": "r", "revoke": revoke }))
            .await
            .unwrap();
        assert!(text_of(&r).contains(why), "{}", text_of(&r));
    }
    assert!(sim(dir.path(), &["tctl", "requests", "ls", "--format=json"]).contains(&id), "still there");
    assert!(locks(dir.path()).is_empty());
    stack.stop().await;
}

#[tokio::test]
async fn an_approval_racing_the_delete_of_a_pending_request_is_reported_not_hidden() {
    let dir = tempfile::tempdir().unwrap();
    let argv_log = dir.path().join("argv.jsonl");
    // `tctl requests rm` waits 2 s before acting: the approval lands in between.
    let extra = [
        ("TELEPORT_SIM_DELAY_MS", "2000".to_owned()),
        ("TELEPORT_SIM_FAIL_ON", "requests rm".to_owned()),
        ("TELEPORT_SIM_ARGV_LOG", argv_log.display().to_string()),
    ];
    let id = sim(dir.path(), &["tctl", "requests", "create", "alice", "--roles", "access"]);
    let mut stack = stack(dir.path(), "18.3.0", &extra).await;
    let admin = stack.client("admin").await.unwrap();
    let call = {
        let id = id.clone();
        tokio::spawn(async move {
            admin.call("drop_access_request", json!({ "request_id": id, "reason": "not needed" })).await.unwrap()
        })
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while !std::fs::read_to_string(&argv_log).unwrap_or_default().contains("\"rm\"") {
        assert!(Instant::now() < deadline, "tctl requests rm never ran");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    sim(dir.path(), &["tctl", "requests", "approve", &id]);
    let r = call.await.unwrap();
    let text = text_of(&r);
    assert_eq!(r.is_error, Some(true), "{text}");
    assert!(text.contains(&format!("Teleport did not delete request {id}")), "{text}");
    assert!(text.contains("approved while we withdrew it"), "{text}");
    let listed = sim(dir.path(), &["tctl", "requests", "get", &id, "--format=json"]);
    assert!(listed.contains("\"state\": 2"), "still there, approved: {listed}");
    stack.stop().await;
}
