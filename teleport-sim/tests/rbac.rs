//! RBAC: with `rbac: true` the identity's roles decide, with Teleport's access-denied wording;
//! the roles here are the ones the control plane ships (`deploy/teleport/`).

mod common;

use common::{Sim, TempDir, tctl, tsh};
use serde_json::{Value, json};

const IDENTITY: &str = "mcp-control-plane";

fn shipped(role: &str) -> Value {
    let path = format!("{}/../deploy/teleport/{role}.yaml", env!("CARGO_MANIFEST_DIR"));
    serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The demo cluster with RBAC on, the shipped roles, `extra` roles, and the identity holding `held`.
fn state(dir: &TempDir, held: &[&str], extra: Vec<Value>) -> String {
    let mut state = Sim::new(&["demo-state"]).run().json();
    let roles = state["roles"].as_array_mut().unwrap();
    for role in ["mcp-inventory", "mcp-access", "mcp-locks", "mcp-proxies", "mcp-passthrough"] {
        roles.push(shipped(role));
    }
    roles.extend(extra);
    let user = json!({ "kind": "user", "version": "v2", "metadata": { "name": IDENTITY }, "spec": { "roles": held } });
    state["users"].as_array_mut().unwrap().push(user);
    state["rbac"] = json!(true);
    dir.file("state.json", &state.to_string()).display().to_string()
}

fn as_identity(sim: Sim, dir: &TempDir, state: &str) -> Sim {
    sim.env("TELEPORT_SIM_STATE", state).env("TELEPORT_SIM_STATE_DIR", dir.0.join("sim-state"))
}

#[test]
fn the_shipped_roles_allow_every_read_and_missing_rules_are_refused_in_teleports_words() {
    let dir = TempDir::new();
    let all = state(&dir, &["mcp-inventory", "mcp-access"], Vec::new());
    for args in [
        &["get", "nodes", "--format=json"][..],
        &["get", "proxies", "--format=json"],
        &["get", "roles", "--format=json"],
        &["get", "users", "--format=json"],
        &["get", "cert_authorities", "--format=json"],
        &["get", "cluster_auth_preference", "--format=json"],
        &["tokens", "ls", "--format=json"],
        &["status"],
    ] {
        let out = as_identity(tctl(args), &dir, &all).run();
        assert_eq!(out.code, Some(0), "{args:?}: {}", out.stderr);
    }

    // Implicit reads stay; the rest needs the inventory role.
    let none = state(&dir, &["mcp-access"], Vec::new());
    let out = as_identity(tctl(&["get", "nodes", "--format=json"]), &dir, &none).run();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    for (args, message) in [
        (&["get", "roles", "--format=json"][..], r#"access denied to perform action "list" on "role""#),
        (&["get", "users", "--format=json"], r#"access denied to perform action "list" on "user""#),
        (&["tokens", "ls", "--format=json"], r#"access denied to perform action "list" on "token""#),
        (
            &["get", "cert_authorities", "--with-secrets"],
            r#"access denied to perform action "read" on "cert_authority""#,
        ),
        (&["lock", "--user=bob", "--ttl=1h"], r#"access denied to perform action "create" on "lock""#),
    ] {
        let out = as_identity(tctl(args), &dir, &none).run();
        assert_eq!(out.error(), message, "{args:?}");
    }
}

#[test]
fn a_deny_rule_wins_over_allow_and_implicit_rules() {
    let dir = TempDir::new();
    let deny = json!({ "kind": "role", "version": "v7", "metadata": { "name": "no-nodes" },
        "spec": { "deny": { "rules": [{ "resources": ["node", "role"], "verbs": ["*"] }] } } });
    let st = state(&dir, &["mcp-inventory", "no-nodes"], vec![deny]);
    let out = as_identity(tctl(&["get", "nodes", "--format=json"]), &dir, &st).run();
    assert_eq!(out.error(), r#"access denied to perform action "list" on "node""#);
    let out = as_identity(tctl(&["get", "roles", "--format=json"]), &dir, &st).run();
    assert_eq!(out.error(), r#"access denied to perform action "list" on "role""#);
}

#[test]
fn requests_follow_the_request_and_review_settings_and_the_access_request_rules() {
    let dir = TempDir::new();
    let st = state(&dir, &["mcp-access"], Vec::new());
    // An administrator files a request for carol (admin's cluster-admin role allows `*`).
    let human = as_identity(tctl(&["requests", "create", "carol", "--roles=access", "--reason=x"]), &dir, &st)
        .env("TELEPORT_SIM_USER", "admin")
        .run();
    assert_eq!(human.code, Some(0), "{}", human.stderr);
    let id = human.stdout.trim().to_owned();

    let out = as_identity(tsh(&["request", "create", "--roles=editor", "--reason=x", "--nowait"]), &dir, &st).run();
    assert_eq!(out.error(), format!("user {IDENTITY:?} can not request role \"editor\""));
    let out = as_identity(tsh(&["request", "create", "--roles=access", "--reason=x", "--nowait"]), &dir, &st).run();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let out = as_identity(tsh(&["request", "review", &id, "--approve"]), &dir, &st).run();
    assert_eq!(out.code, Some(0), "{}", out.stderr);

    // Without the access_request rules: its own requests and those it may review, no others.
    let narrow = json!({ "kind": "role", "version": "v7", "metadata": { "name": "own-only" },
        "spec": { "allow": { "request": { "roles": ["access"] } } } });
    let st = state(&dir, &["own-only"], vec![narrow]);
    let listed = as_identity(tsh(&["request", "ls", "--format=json"]), &dir, &st).run().array();
    assert!(listed.len() == 1 && listed[0]["spec"]["user"] == IDENTITY, "{listed:?}");
    let out = as_identity(tsh(&["request", "show", &id, "--format=json"]), &dir, &st).run();
    assert_eq!(out.error(), format!("no access request matching {id:?}"));
    let out = as_identity(tctl(&["requests", "rm", &id]), &dir, &st).run();
    assert_eq!(out.error(), r#"access denied to perform action "delete" on "access_request""#);
}

/// `db_server`, `app_server`, `kube_server` are implicit reads filtered by the role's label
/// selectors; `windows_desktop` needs a rule. Without the selector the identity sees none, and
/// `tsh proxy` finds none.
#[test]
fn targets_are_seen_through_label_selectors_and_desktops_need_a_rule() {
    let dir = TempDir::new();
    let count = |st: &str, kind: &str| {
        let out = as_identity(tctl(&["get", kind, "--format=json"]), &dir, st).run();
        assert_eq!(out.code, Some(0), "{kind}: {}", out.stderr);
        out.json().as_array().unwrap().len()
    };
    let with = state(&dir, &["mcp-inventory", "mcp-proxies"], Vec::new());
    for kind in ["db_server", "app_server", "kube_server", "windows_desktop"] {
        assert!(count(&with, kind) > 0, "{kind}");
    }
    let without = state(&dir, &["mcp-access"], Vec::new());
    for kind in ["db_server", "app_server", "kube_server"] {
        assert_eq!(count(&without, kind), 0, "{kind}");
    }
    let out = as_identity(tctl(&["get", "windows_desktop", "--format=json"]), &dir, &without).run();
    assert_eq!(out.error(), r#"access denied to perform action "list" on "windows_desktop""#);
    let out = as_identity(tsh(&["proxy", "db", "orders"]), &dir, &without).run();
    assert_eq!(out.error(), "database \"orders\" not found, use 'tsh db ls' to see registered databases");
}
