//! Fault knobs: delays, hangs that still die on signals, injected errors scoped to command
//! lines, exit codes, garbage output, stderr noise, and identities denied by the state.

mod common;

use std::time::{Duration, Instant};

use common::{TempDir, tctl};

#[test]
fn access_denied_names_the_resource_of_the_command() {
    for (args, resource) in [
        (vec!["get", "nodes"], "node"),
        (vec!["get", "roles"], "role"),
        (vec!["tokens", "ls"], "token"),
        (vec!["get", "cas"], "cert_authority"),
        (vec!["get", "cap"], "cluster_auth_preference"),
        (vec!["get", "users"], "user"),
        (vec!["get", "proxies"], "proxy"),
    ] {
        let out = tctl(&args).env("TELEPORT_SIM_FAIL", "access_denied").run();
        assert_eq!(out.error(), format!("access denied to perform action \"list\" on \"{resource}\""));
    }
    let read = tctl(&["get", "role/access"]).env("TELEPORT_SIM_FAIL", "access_denied").run();
    assert_eq!(read.error(), "access denied to perform action \"read\" on \"role\"");
}

#[test]
fn fail_on_scopes_faults_and_free_text_is_the_message() {
    let scoped = |args: &[&str]| {
        tctl(args).env("TELEPORT_SIM_FAIL", "backend is down").env("TELEPORT_SIM_FAIL_ON", "get nodes").run()
    };
    assert_eq!(scoped(&["get", "nodes", "--format=json"]).error(), "backend is down");
    assert!(!scoped(&["get", "roles", "--format=json"]).array().is_empty());
    assert!(tctl(&["get", "nodes"]).env("TELEPORT_SIM_FAIL", "internal").run().error().contains("Internal"));
    assert_eq!(tctl(&["get", "nodes"]).env("TELEPORT_SIM_FAIL", "not_found").run().error(), "node not found");
}

#[test]
fn delay_slows_the_answer() {
    let start = Instant::now();
    let out = tctl(&["get", "cap", "--format=json"]).env("TELEPORT_SIM_DELAY_MS", "400").run();
    assert!(start.elapsed() >= Duration::from_millis(400));
    assert_eq!(out.array().len(), 1);
}

#[test]
fn hang_never_answers_but_dies_on_sigterm_and_sigkill() {
    for signal in ["TERM", "KILL"] {
        let mut child = tctl(&["get", "nodes"]).env("TELEPORT_SIM_HANG", "1").spawn();
        std::thread::sleep(Duration::from_millis(300));
        assert!(child.try_wait().unwrap().is_none(), "still hanging");
        let status =
            std::process::Command::new("kill").args([format!("-{signal}"), child.id().to_string()]).status().unwrap();
        assert!(status.success());
        let exit = child.wait().unwrap();
        assert!(!exit.success(), "killed by SIG{signal}");
    }
}

#[test]
fn exit_garbage_and_noise() {
    let exit = tctl(&["get", "nodes", "--format=json"]).env("TELEPORT_SIM_EXIT", "7").run();
    assert_eq!(exit.code, Some(7));
    assert!(exit.json().is_array(), "the payload is still printed");

    let garbage = tctl(&["get", "nodes", "--format=json"]).env("TELEPORT_SIM_GARBAGE", "1").run();
    assert_eq!(garbage.code, Some(0));
    assert!(serde_json::from_str::<serde_json::Value>(&garbage.stdout).is_err());
    assert!(!garbage.stdout.is_empty());

    let noisy = tctl(&["get", "nodes", "--format=json"]).env("TELEPORT_SIM_STDERR_NOISE", "1").run();
    assert!(!noisy.array().is_empty());
    assert!(noisy.stderr.contains(" WARN "));
    assert!(!noisy.stderr.contains("ERROR"));
}

#[test]
fn state_file_faults_and_deny_list_apply_and_env_wins() {
    let dir = TempDir::new();
    let state =
        dir.file("state.yaml", "nodes: []\ndeny: [token]\nfaults:\n  fail: access_denied\n  fail_on: get roles\n");
    let denied = tctl(&["tokens", "ls", "--format=json"]).env("TELEPORT_SIM_STATE", &state).run();
    assert_eq!(denied.error(), "access denied to perform action \"list\" on \"token\"");
    let roles = tctl(&["get", "roles"]).env("TELEPORT_SIM_STATE", &state).run();
    assert_eq!(roles.error(), "access denied to perform action \"list\" on \"role\"");
    let nodes = tctl(&["get", "nodes", "--format=json"]).env("TELEPORT_SIM_STATE", &state).run();
    assert_eq!(nodes.stdout, "[]");
    let env_wins =
        tctl(&["get", "roles"]).env("TELEPORT_SIM_STATE", &state).env("TELEPORT_SIM_FAIL", "overridden").run();
    assert_eq!(env_wins.error(), "overridden");
}
