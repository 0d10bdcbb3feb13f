//! Progress reaches the MCP client: a worker's steps become `notifications/progress` on the POST's
//! stream, with the client's own token, increasing, with totals and messages — and only when the
//! client asked for them.

use mtcp_tests::client::text_of;
use mtcp_tests::{Stack, StackOptions};
use serde_json::json;

#[tokio::test]
async fn a_health_check_streams_its_steps_to_a_client_that_asked() {
    let mut stack = Stack::start(StackOptions::default()).await.unwrap();
    let c = stack.client("operator").await.unwrap();
    let (result, progress) = c.call_with_progress("run_health_check", json!({})).await.unwrap();
    assert_eq!(result.is_error, Some(false), "{}", text_of(&result));
    let values: Vec<f64> = progress.iter().map(|p| p.progress).collect();
    assert_eq!(values, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "{progress:?}");
    assert!(progress.iter().all(|p| p.total == Some(6.0)), "{progress:?}");
    assert!(progress.iter().all(|p| p.message.as_deref().is_some_and(|m| !m.is_empty())), "{progress:?}");

    // A tool the gateway answers itself has no steps to report.
    let (_, none) = c.call_with_progress("whoami", json!({})).await.unwrap();
    assert!(none.is_empty(), "{none:?}");
    stack.stop().await;
}
