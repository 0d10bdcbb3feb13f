//! Teleport's CLIs colour `ERROR: ` red on every non-Windows platform (the simulator does the same):
//! none of those escapes may reach a tool result, a lease log or the database, and the error is
//! still classified by Teleport's own words.

use std::collections::BTreeMap;

use mtcp_tests::client::text_of;
use mtcp_tests::{Stack, StackOptions};
use serde_json::json;

fn options(version: &str, extra: &[(&str, &str)]) -> StackOptions {
    let mut sim_env = BTreeMap::from([("TELEPORT_SIM_VERSION".to_owned(), version.to_owned())]);
    sim_env.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    StackOptions { sim_env, ..Default::default() }
}

const ESC: char = '\x1b';

#[tokio::test]
async fn a_failed_lease_start_and_a_missing_request_carry_no_terminal_escapes() {
    for version in ["17.7.1", "18.3.0"] {
        let dir = tempfile::tempdir().unwrap();
        let state_dir = dir.path().display().to_string();
        let opts = options(version, &[("TELEPORT_SIM_PROXY_FAIL", "1"), ("TELEPORT_SIM_STATE_DIR", &state_dir)]);
        let mut stack = Stack::start(opts).await.unwrap();
        let op = stack.client("operator").await.unwrap();

        let r = op
            .call("start_proxy", json!({ "kind": "proxy_app", "target": { "app": "grafana" }, "reason": "colour" }))
            .await
            .unwrap();
        assert_eq!(r.is_error, Some(true), "{version}");
        let text = text_of(&r);
        assert!(text.contains("ERROR: ") && !text.contains(ESC), "{version}: {text:?}");
        let leases =
            op.call("list_proxies_leases", json!({ "active_only": false })).await.unwrap().structured_content.unwrap();
        let lease_id = leases["leases"][0]["lease_id"].as_str().unwrap().to_owned();
        let logs = op.call("get_proxy_logs", json!({ "lease_id": lease_id })).await.unwrap();
        let logs = serde_json::to_string(&logs.structured_content).unwrap();
        assert!(logs.contains("ERROR: ") && !logs.contains("\\u001b"), "{version}: {logs}");

        // Teleport's `no access request matching "<id>"` is a not-found, without its colour.
        let missing = "00000000-0000-4000-8000-000000000000";
        let r = op.call("show_access_request", json!({ "request_id": missing })).await.unwrap();
        let text = text_of(&r);
        assert_eq!(r.is_error, Some(true));
        assert!(text.contains(&format!("Not found in Teleport; its message:\n<untrusted-data format=\"text\">\nno access request matching \"{missing}\"")), "{text}");
        assert!(!text.contains(ESC), "{text:?}");

        let stored: Vec<(Option<String>, Option<String>)> =
            sqlx::query_as("SELECT stderr, error FROM operations").fetch_all(&stack.db.pool).await.unwrap();
        assert!(stored.iter().any(|(stderr, _)| stderr.as_deref().is_some_and(|s| s.contains("ERROR: "))));
        for (stderr, error) in &stored {
            for text in [stderr, error].into_iter().flatten() {
                assert!(!text.contains(ESC), "{version}: stored {text:?}");
            }
        }
        let lines: Vec<String> =
            sqlx::query_scalar("SELECT line FROM lease_logs").fetch_all(&stack.db.pool).await.unwrap();
        assert!(!lines.is_empty() && lines.iter().all(|l| !l.contains(ESC)), "{version}: {lines:?}");
        stack.stop().await;
    }
}
