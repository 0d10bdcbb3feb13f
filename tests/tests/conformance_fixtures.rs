//! The conformance suite's fixtures (`scripts/conformance`) exist only in a gateway built with the
//! `conformance` feature (this test crate's dev-dependency; the `cargo build --bins` binary has
//! none) and behind its test-only switch: without it none is listed or callable and a request
//! without a credential is refused; with it, on loopback only, they work for an unauthenticated
//! caller while the real tools stay policy-checked.

use mtcp_gateway::{Application, Fixtures};
use mtcp_tests::client::text_of;
use mtcp_tests::{McpClient, Stack, StackOptions};
use rmcp::model::ReadResourceRequestParams;
use serde_json::json;

fn fixture_names() -> Vec<String> {
    let names = mtcp_gateway::fixture_tool_names();
    assert!(names.iter().any(|n| n == "test_simple_text") && names.len() > 20, "{names:?}");
    names
}

#[tokio::test]
async fn without_the_switch_no_fixture_is_listed_or_callable() {
    let mut stack = Stack::start(StackOptions { worker: false, ..Default::default() }).await.unwrap();
    let admin = stack.client("admin").await.unwrap();
    let listed = admin.tool_names().await.unwrap();
    assert!(listed.iter().any(|n| n == "whoami"), "{listed:?}");
    for name in fixture_names() {
        assert!(!listed.contains(&name), "fixture {name} listed without the switch");
        let r = admin.call(&name, json!({})).await.unwrap();
        assert_eq!(r.is_error, Some(true), "{name} ran without the switch: {}", text_of(&r));
        assert!(text_of(&r).contains("unknown tool"), "{name}: {}", text_of(&r));
    }
    // Nor do the fixtures' prompts, resources or completions exist.
    assert!(admin.peer().list_all_prompts().await.is_err());
    let read = admin.peer().read_resource(ReadResourceRequestParams::new("test://static-text")).await;
    assert!(read.is_err(), "{read:?}");

    // A request without a credential is refused, as always.
    let anonymous = McpClient::connect(&stack.url, None).await;
    assert!(anonymous.is_err(), "an unauthenticated client connected without the switch");
    stack.stop().await;
}

#[tokio::test]
async fn with_the_switch_fixtures_work_unauthenticated_and_real_tools_stay_policy_checked() {
    let mut stack = Stack::start(StackOptions { worker: false, ..Default::default() }).await.unwrap();
    let mut config = stack.config.clone();
    config.service.host = "127.0.0.1".into();
    let app = Application::build_with(config, Fixtures::Conformance, stack.shutdown.clone()).await.unwrap();
    let url = format!("http://{}/mcp", app.local_addr());
    tokio::spawn(app.run_until_stopped());

    let anonymous = McpClient::connect(&url, None).await.unwrap();
    let listed = anonymous.tool_names().await.unwrap();
    for name in fixture_names() {
        assert!(listed.contains(&name), "fixture {name} not listed with the switch");
    }
    let r = anonymous.call("test_simple_text", json!({})).await.unwrap();
    assert_eq!(text_of(&r), "This is a simple text response for testing.");
    assert!(anonymous.peer().list_all_prompts().await.unwrap().iter().any(|p| p.name == "test_simple_prompt"));

    // The test actor is read-only: a mutating real tool is neither listed nor allowed.
    assert!(listed.iter().any(|n| n == "list_nodes"), "{listed:?}");
    assert!(!listed.iter().any(|n| n == "create_access_request"), "{listed:?}");
    let r = anonymous.call("create_access_request", json!({ "roles": ["auditor"], "reason": "INC-1" })).await.unwrap();
    assert!(text_of(&r).contains("denied by policy"), "{}", text_of(&r));

    // A credential that is sent is still checked.
    let bad = McpClient::connect(&url, Some("mtcp_nonsense")).await;
    assert!(bad.is_err(), "a wrong key was accepted in fixture mode");
    stack.stop().await;
}

#[tokio::test]
async fn the_switch_is_refused_off_loopback() {
    let mut stack = Stack::start(StackOptions { worker: false, ..Default::default() }).await.unwrap();
    let mut config = stack.config.clone();
    config.service.host = "0.0.0.0".into();
    config.service.port = 0;
    let err = Application::build_with(config, Fixtures::Conformance, stack.shutdown.clone()).await.err().unwrap();
    assert!(err.to_string().contains("only listens on loopback"), "{err}");
    stack.stop().await;
}

#[test]
fn the_binary_needs_both_the_hidden_flag_and_the_environment() {
    let gateway = |flag: bool, env: bool| {
        let mut cmd = std::process::Command::new(mtcp_tests::process::binary("mtcp-gateway"));
        cmd.env_remove("DATABASE_URL").env_remove(mtcp_gateway::FIXTURES_ENV).env("MTCP_SERVICE__LOG_LEVEL", "error");
        if flag {
            cmd.arg("--conformance-fixtures");
        }
        if env {
            cmd.env(mtcp_gateway::FIXTURES_ENV, "1");
        }
        let out = cmd.output().unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (ok, err) = gateway(true, false);
    assert!(!ok && err.contains("MTCP_CONFORMANCE_FIXTURES=1"), "{err}");
    let (ok, err) = gateway(false, true);
    assert!(!ok && err.contains("unset it"), "{err}");
    // `cargo build --bins` leaves the fixtures out (as a release build and the image do): the switch
    // is refused even with both keys.
    let (ok, err) = gateway(true, true);
    assert!(!ok && err.contains("built without the conformance fixtures"), "{err}");

    let help = std::process::Command::new(mtcp_tests::process::binary("mtcp-gateway")).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("--config") && !help.contains("conformance"), "{help}");
}
