//! Kubernetes resources in access requests, against the simulator as Teleport 17 and 18: 18's
//! `kube:ns:` / `kube:cw:` kinds reach Teleport and come back in the request; 17 refuses them in
//! its own words; malformed ids (our old example among them) never reach Teleport.

use std::collections::BTreeMap;

use mtcp_tests::client::text_of;
use mtcp_tests::{Stack, StackOptions};
use serde_json::json;

async fn stack(version: &str, state_dir: &std::path::Path, argv_log: &std::path::Path) -> Stack {
    let sim_env = BTreeMap::from([
        ("TELEPORT_SIM_VERSION".to_owned(), version.to_owned()),
        ("TELEPORT_SIM_STATE_DIR".to_owned(), state_dir.display().to_string()),
        ("TELEPORT_SIM_ARGV_LOG".to_owned(), argv_log.display().to_string()),
    ]);
    Stack::start(StackOptions { sim_env, ..Default::default() }).await.unwrap()
}

const POD: &str = "/teleport.example.com/kube:ns:pods/prod/default/api-0";
const NAMESPACE: &str = "/teleport.example.com/kube:cw:namespaces/prod/payments";

#[tokio::test]
async fn kubernetes_kinds_by_version_and_malformed_ids_refused_up_front() {
    for version in ["18.3.0", "17.7.1"] {
        let dir = tempfile::tempdir().unwrap();
        let argv_log = dir.path().join("argv.jsonl");
        let mut stack = stack(version, dir.path(), &argv_log).await;
        let op = stack.client("operator").await.unwrap();

        let r = op
            .call("create_access_request", json!({ "resources": [POD, NAMESPACE], "reason": "debug api-0" }))
            .await
            .unwrap();
        let text = text_of(&r);
        if version.starts_with("18") {
            assert_eq!(r.is_error, Some(false), "{text}");
            let id = r.structured_content.unwrap()["request_id"].as_str().unwrap().to_owned();
            let shown = op.call("show_access_request", json!({ "request_id": id })).await.unwrap();
            let shown = shown.structured_content.unwrap();
            assert_eq!(shown["resources"], json!([POD, NAMESPACE]), "{shown}");
        } else {
            assert_eq!(r.is_error, Some(true), "{text}");
            assert!(text.contains("Resource kind \"kube:ns:pods\" is invalid or unsupported"), "{text}");
        }

        // Refused by the control plane, before any CLI runs.
        let before = std::fs::read_to_string(&argv_log).unwrap_or_default().lines().count();
        for (bad, why) in [
            ("/teleport.example.com/kube_cluster/prod/default/pod-1", "doesn't allow sub resources"),
            ("/teleport.example.com/kube:ns:pods/prod/api-0", "<kube_cluster>/<namespace>/<name>"),
            ("/teleport.example.com/kube:cw:namespaces/prod", "<kube_cluster>/<name>"),
            ("/teleport.example.com/kube:pods/prod/default/x", "kube:ns:"),
        ] {
            let r = op.call("create_access_request", json!({ "resources": [bad], "reason": "x" })).await.unwrap();
            let text = text_of(&r);
            assert_eq!(r.is_error, Some(true), "{bad}: {text}");
            assert!(text.contains(why), "{bad}: {text}");
        }
        let after = std::fs::read_to_string(&argv_log).unwrap_or_default().lines().count();
        assert_eq!(before, after, "{version}: nothing reached Teleport");
        stack.stop().await;
    }
}
