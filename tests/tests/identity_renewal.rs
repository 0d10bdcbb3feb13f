//! A renewed identity file is used at the next call: every `tctl`/`tsh` run reads the file afresh
//! (the simulator, like Teleport, acts as the user its certificate names), so `tbot` can replace it
//! under running workers with no restart.

use mtcp_tests::client::text_of;
use mtcp_tests::{Stack, StackOptions, identity_file};
use serde_json::json;

#[tokio::test]
async fn a_swapped_identity_file_is_used_at_the_next_call() {
    let mut stack = Stack::start(StackOptions::default()).await.unwrap();
    let path = stack.config.teleport.identity_file.clone().unwrap();
    let operator = stack.client("operator").await.unwrap();
    for user in ["bot-mtcp-before", "bot-mtcp-after"] {
        std::fs::write(&path, identity_file("teleport.example.com", user, chrono::Duration::hours(1))).unwrap();
        let created = operator
            .call("create_access_request", json!({ "resources": ["access"], "reason": "renewal check" }))
            .await
            .unwrap();
        assert_eq!(created.is_error, Some(false), "{}", text_of(&created));
        let id = created.structured_content.unwrap()["request_id"].as_str().unwrap().to_owned();
        let shown = operator.call("show_access_request", json!({ "request_id": id })).await.unwrap();
        let shown = shown.structured_content.unwrap();
        assert_eq!(shown["user"], user, "Teleport recorded the request under the identity of the file now: {shown}");
    }
    stack.stop().await;
}
