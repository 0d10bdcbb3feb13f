//! State files: the demo round-trips through `demo-state`, missing sections are empty (not
//! demo data), extra fields are echoed untouched, and real output can be pasted in.

mod common;

use common::{Sim, TempDir, tctl};

#[test]
fn demo_state_round_trips_to_identical_output() {
    let demo = Sim::new(&["demo-state"]).run();
    assert_eq!(demo.code, Some(0));
    let doc = demo.json();
    for key in [
        "cluster_name",
        "version",
        "nodes",
        "proxies",
        "roles",
        "users",
        "tokens",
        "cert_authorities",
        "auth_preference",
        "deny",
        "faults",
    ] {
        assert!(doc.get(key).is_some(), "demo-state has {key}");
    }
    let dir = TempDir::new();
    let state = dir.file("cluster.json", &demo.stdout);
    for args in [
        vec!["get", "nodes", "--format=json"],
        vec!["get", "roles", "--format=json"],
        vec!["tokens", "ls", "--format=json"],
        vec!["status"],
        vec!["get", "cas", "--format=yaml"],
    ] {
        let built_in = tctl(&args).run();
        let from_file = tctl(&args).env("TELEPORT_SIM_STATE", &state).run();
        assert_eq!(from_file.code, Some(0), "{args:?}: {}", from_file.stderr);
        assert_eq!(from_file.stdout, built_in.stdout, "{args:?}");
    }
}

#[test]
fn missing_sections_are_empty_and_empty_lists_print_bare_brackets() {
    let dir = TempDir::new();
    let state = dir.file("empty.yaml", "cluster_name: other.example.com\n");
    for args in [["get", "nodes", "--format=json"], ["tokens", "ls", "--format=json"]] {
        let out = tctl(&args).env("TELEPORT_SIM_STATE", &state).run();
        assert_eq!(out.code, Some(0));
        assert_eq!(out.stdout, "[]", "no newline after an empty list");
    }
    let status = tctl(&["status", "--format=json"])
        .env("TELEPORT_SIM_STATE", &state)
        .env("TELEPORT_SIM_VERSION", "19")
        .run()
        .json();
    assert_eq!(status["cluster"]["name"], "other.example.com");
}

#[test]
fn pasted_output_with_canaries_is_echoed_untouched() {
    let node = r#"{"kind": "node", "version": "v2", "metadata": {"name": "n1", "labels": {"a": "<b&c>"}},
        "spec": {"addr": "", "hostname": "h1", "x_canary": {"z": "AKIAFAKESECRET", "a": [1, 2.5, null]}}}"#;
    let dir = TempDir::new();
    let state = dir.file("paste.json", &format!(r#"{{"nodes": [{node}]}}"#));
    let out = tctl(&["get", "nodes", "--format=json"]).env("TELEPORT_SIM_STATE", &state).run();
    let nodes = out.array();
    assert_eq!(nodes[0]["spec"]["x_canary"]["z"], "AKIAFAKESECRET");
    assert!(out.stdout.contains(r#""a": "\u003cb\u0026c\u003e""#), "HTML-escaped like Go");
    let canary_at = out.stdout.find("x_canary").unwrap();
    assert!(out.stdout.find("\"hostname\"").unwrap() < canary_at, "field order kept");
}

#[test]
fn bad_state_files_are_reported() {
    let dir = TempDir::new();
    let typo = dir.file("typo.json", r#"{"node": []}"#);
    let err = tctl(&["get", "nodes"]).env("TELEPORT_SIM_STATE", &typo).run().error();
    assert!(err.contains("unknown field `node`"), "{err}");
    let missing = dir.0.join("absent.json");
    let err = tctl(&["get", "nodes"]).env("TELEPORT_SIM_STATE", &missing).run().error();
    assert!(err.contains("cannot read state file"), "{err}");
}

#[test]
fn starts_fast() {
    let start = std::time::Instant::now();
    for _ in 0..10 {
        assert_eq!(tctl(&["get", "nodes", "--format=json"]).run().code, Some(0));
    }
    let each = start.elapsed() / 10;
    assert!(each < std::time::Duration::from_millis(200), "{each:?} per run");
}
