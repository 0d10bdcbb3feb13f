//! Each command prints what real `tctl`/`tsh` print: JSON arrays of the right kinds and
//! shapes, Go's layout, the text layouts, and version lines.

mod common;

use common::{tctl, tsh};
use serde_json::Value;

fn kinds(items: &[Value]) -> Vec<&str> {
    items.iter().map(|i| i["kind"].as_str().unwrap_or("")).collect()
}

#[test]
fn get_nodes_is_a_4_space_array_of_nodes_with_heartbeats() {
    let out = tctl(&["get", "nodes", "--format=json"]).run();
    let nodes = out.array();
    assert!(nodes.len() >= 20);
    assert!(kinds(&nodes).iter().all(|k| *k == "node"));
    assert!(out.stdout.starts_with("[\n    {\n        \"kind\": \"node\",\n"));
    assert!(out.stdout.ends_with("}\n]\n"));
    for node in &nodes {
        assert_eq!(node["version"], "v2");
        assert!(node["metadata"]["expires"].is_string());
        assert!(node["spec"]["hostname"].is_string());
        assert_eq!(node["spec"]["rotation"]["started"], "0001-01-01T00:00:00Z");
    }
    // `nodes ls` and the singular kind print the same array.
    assert_eq!(tctl(&["nodes", "ls", "--format=json"]).run().stdout, out.stdout);
    assert_eq!(tctl(&["get", "node", "--format", "json"]).run().stdout, out.stdout);
}

#[test]
fn every_kind_lists_its_own_resources() {
    for (kind, expected, min) in [
        ("proxies", "proxy", 3),
        ("roles", "role", 6),
        ("users", "user", 5),
        ("cert_authorities", "cert_authority", 9),
        ("cas", "cert_authority", 9),
        ("cluster_auth_preference", "cluster_auth_preference", 1),
        ("cap", "cluster_auth_preference", 1),
    ] {
        let items = tctl(&["get", kind, "--format=json"]).run().array();
        assert!(items.len() >= min, "{kind}: {}", items.len());
        assert!(kinds(&items).iter().all(|k| *k == expected), "{kind}");
    }
    let cas = tctl(&["get", "cas", "--format=json"]).run().array();
    assert!(cas.iter().all(|ca| ca["sub_kind"] == ca["spec"]["type"]));
    let roles = tctl(&["get", "roles", "--format=json"]).run().array();
    let access = roles.iter().find(|r| r["metadata"]["name"] == "access").unwrap();
    assert_eq!(access["spec"]["options"]["max_session_ttl"], "30h0m0s");
    assert_eq!(access["spec"]["allow"]["node_labels"]["*"], "*", "one label value prints as a string");
}

#[test]
fn single_resources_are_one_element_arrays_and_missing_ones_are_not_found() {
    let roles = tctl(&["get", "role/editor", "--format=json"]).run().array();
    assert_eq!(roles.len(), 1);
    assert_eq!(roles[0]["metadata"]["name"], "editor");
    let by_host = tctl(&["get", "node/web-01", "--format=json"]).run().array();
    assert_eq!(by_host.len(), 1);
    assert_eq!(by_host[0]["spec"]["hostname"], "web-01");
    let uuid = by_host[0]["metadata"]["name"].as_str().unwrap().to_owned();
    let by_uuid = tctl(&["get", &format!("node/{uuid}"), "--format=json"]).run().array();
    assert_eq!(by_uuid, by_host);
    let host_ca = tctl(&["get", "cert_authority/host/teleport.example.com", "--format=json"]).run();
    assert_eq!(host_ca.array()[0]["spec"]["rotation"]["phase"], "update_clients");

    assert_eq!(tctl(&["get", "role/nope"]).run().error(), "role nope is not found");
    assert_eq!(tctl(&["get", "node/nope"]).run().error(), "node with ID \"nope\" not found");
    assert_eq!(tctl(&["get", "user/nope"]).run().error(), "user \"nope\" is not found");
    assert_eq!(tctl(&["get", "cap/x"]).run().error(), "only simple `tctl get cluster_auth_preference` can be used");
}

#[test]
fn tokens_are_sorted_by_expiry_and_unmasked_in_json() {
    let tokens = tctl(&["tokens", "ls", "--format=json"]).run().array();
    assert!(tokens.len() >= 4);
    let expiry = |t: &Value| t["metadata"]["expires"].as_str().unwrap_or("0001-01-01T00:00:00Z").to_owned();
    let expiries: Vec<String> = tokens.iter().map(expiry).collect();
    let mut sorted = expiries.clone();
    sorted.sort();
    assert_eq!(expiries, sorted);
    assert!(tokens.iter().any(|t| t["metadata"]["name"].as_str().unwrap().len() == 32
        && !t["metadata"]["name"].as_str().unwrap().contains('*')));
    let text = tctl(&["tokens", "ls"]).run().stdout;
    assert!(text.starts_with("Token "));
    assert!(text.contains("************"), "the text table masks secrets");
}

#[test]
fn status_json_and_text_describe_the_cas() {
    let status = tctl(&["status", "--format=json"]).env("TELEPORT_SIM_VERSION", "19.0.0").run().json();
    assert_eq!(status["cluster"]["name"], "teleport.example.com");
    assert_eq!(status["cluster"]["version"], "19.0.0");
    assert!(status["cluster"]["ca_pins"][0].as_str().unwrap().starts_with("sha256:"));
    let host = &status["authorities"][0];
    assert_eq!(host["type"], "host");
    assert_eq!(host["rotation"]["state"], "in_progress");
    assert_eq!(host["keys"][0]["protocol"], "SSH");
    let db = status["authorities"].as_array().unwrap().iter().find(|a| a["type"] == "db").unwrap();
    assert!(db["rotation"].get("started").is_none(), "zero times are omitted");

    let text = tctl(&["status"]).run().stdout;
    assert!(text.starts_with("Cluster: teleport.example.com\nVersion: 18.1.4\nCA pins: sha256:"));
    assert!(text.contains("\nauthority "));
    assert!(text.contains("standby (never rotated)"));
}

/// `tool/tctl/common/status_command.go`: `tctl status` has no flags before 19.x, so kingpin
/// refuses `--format` (usage line, error, exit 1); 19.x takes text, json and yaml.
#[test]
fn status_format_exists_only_from_19() {
    for version in ["17", "18.3.0"] {
        let out = tctl(&["status", "--format=json"]).env("TELEPORT_SIM_VERSION", version).run();
        assert_eq!(out.error(), "unknown long flag '--format'", "{version}");
        assert!(out.stderr.starts_with("usage: tctl "), "{version}: {}", out.stderr);
        let text = tctl(&["status"]).env("TELEPORT_SIM_VERSION", version).run();
        assert_eq!(text.code, Some(0), "{version}: {}", text.stderr);
        assert!(text.stdout.starts_with("Cluster: teleport.example.com\nVersion: "), "{version}");
    }
    for format in ["text", "json", "yaml"] {
        let out = tctl(&["status", "--format", format]).env("TELEPORT_SIM_VERSION", "19").run();
        assert_eq!(out.code, Some(0), "{format}: {}", out.stderr);
    }
}

/// `tool/tctl/common/token_command.go`, `List`: `--format=text` prints one (masked) name a line.
#[test]
fn tokens_text_format_prints_names_only() {
    let table = tctl(&["tokens", "ls"]).run().stdout;
    let names = tctl(&["tokens", "ls", "--format=text"]).run().stdout;
    assert!(!names.contains("Token ") && !names.contains("Expiry"), "no table: {names}");
    let lines: Vec<&str> = names.lines().collect();
    assert_eq!(lines.len(), table.lines().count() - 2, "one line per token: {names}");
    assert!(lines.iter().all(|l| !l.contains(' ') && l.contains('*')), "masked names only: {names}");
    let secrets = tctl(&["tokens", "ls", "--format=text", "--with-secrets"]).run().stdout;
    assert!(!secrets.contains('*'), "{secrets}");
}

#[test]
fn yaml_and_text_formats() {
    let yaml = tctl(&["get", "roles"]).run().stdout;
    assert!(yaml.starts_with("kind: role\n"), "yaml is the default, keys sorted");
    assert_eq!(yaml.matches("\n---\n").count() + 1, yaml.matches("kind: role").count());
    let table = tctl(&["nodes", "ls"]).run().stdout;
    assert!(table.starts_with("Host "));
    assert!(table.contains("⟵ Tunnel"));
    let users = tctl(&["get", "users", "--format=text"]).run().stdout;
    assert!(users.starts_with("User "));
}

#[test]
fn version_lines() {
    let line = tctl(&["version"]).strict().run();
    assert_eq!(line.code, Some(0), "version needs no credentials");
    assert!(line.stdout.starts_with("Teleport v18.1.4 git:v18.1.4-0-g"));
    assert!(line.stdout.ends_with(" go1.24.4\n"));
    assert!(tsh(&["version"]).run().stdout.starts_with("Teleport v18.1.4 "));
    assert_eq!(tsh(&["version", "--format=json"]).run().json()["version"], "18.1.4");
}

/// `TELEPORT_SIM_MANAGED_TOOLS`: with managed client tools advertised, a run without
/// `TELEPORT_TOOLS_VERSION=off` fails (real tools would re-execute another release).
#[test]
fn managed_tools_need_self_update_turned_off() {
    for value in [None, Some("18.3.0"), Some("")] {
        let mut run = tsh(&["status"]).env("TELEPORT_SIM_MANAGED_TOOLS", "19.0.0");
        if let Some(value) = value {
            run = run.env("TELEPORT_TOOLS_VERSION", value);
        }
        let message = run.run().error();
        assert!(message.contains("would update itself and re-execute 19.0.0"), "{value:?}: {message}");
    }
    let off = tctl(&["get", "nodes", "--format=json"])
        .env("TELEPORT_SIM_MANAGED_TOOLS", "19.0.0")
        .env("TELEPORT_TOOLS_VERSION", "off")
        .run();
    assert!(!off.array().is_empty());
    assert_eq!(tctl(&["get", "nodes", "--format=json"]).run().code, Some(0), "no knob, no check");
}
