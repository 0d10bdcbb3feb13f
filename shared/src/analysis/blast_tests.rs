//! Blast radius over hand-made roles and targets: label matching as Teleport does it, deny
//! selectors, resource ids, logins and admin-equivalence.

use std::collections::BTreeMap;

use serde_json::json;

use super::*;

fn role(name: &str, spec: serde_json::Value) -> Role {
    serde_json::from_value(json!({"kind": "role", "version": "v8", "metadata": {"name": name}, "spec": spec})).unwrap()
}

fn target(kind: TargetKind, name: &str, labels: &[(&str, &str)]) -> Target {
    let labels: BTreeMap<String, String> = labels.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    Target { kind, name: name.to_owned(), alias: Some(format!("{name}-host")), labels }
}

fn cluster() -> Vec<Target> {
    vec![
        target(TargetKind::Node, "n1", &[("env", "prod")]),
        target(TargetKind::Node, "n2", &[("env", "prod"), ("team", "data")]),
        target(TargetKind::Node, "n3", &[("env", "staging")]),
        target(TargetKind::Node, "n4", &[]),
        target(TargetKind::Database, "orders", &[("env", "prod")]),
        target(TargetKind::Database, "orders-dev", &[("env", "dev")]),
        target(TargetKind::App, "grafana", &[("env", "prod")]),
        target(TargetKind::McpServer, "fs-mcp", &[("env", "dev")]),
        target(TargetKind::KubeCluster, "prod-eks", &[("env", "prod")]),
    ]
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn a_prod_role_reaches_prod_only_and_deny_takes_away() {
    let roles = vec![role(
        "prod-ops",
        json!({
            "allow": {"logins": ["ubuntu", "{{internal.logins}}"], "node_labels": {"env": "prod"},
                      "db_labels": {"env": ["prod", "staging"]}, "app_labels": {"env": "pro*"}},
            "deny": {"node_labels": {"team": "data"}, "logins": ["ubuntu"]}
        }),
    )];
    let b = blast_radius(&names(&["prod-ops"]), &roles, &[], &cluster());
    assert_eq!(b.roles, names(&["prod-ops"]));
    assert_eq!((b.nodes.total, b.nodes.by_env.get("prod")), (1, Some(&1)), "n2 is denied by its team label");
    assert_eq!(b.databases.total, 1);
    assert_eq!(b.apps.total, 1, "a glob value matches");
    assert_eq!(b.mcp_servers.total, 0);
    assert_eq!(b.kube_clusters.total, 0, "no kubernetes_labels, nothing reached");
    assert_eq!(b.logins, names(&["{{internal.logins}}"]), "a denied login is not reachable");
    assert!(b.notes.iter().any(|n| n.contains("trait templates")), "{:?}", b.notes);
    assert!(b.admin_equivalent.is_empty());
}

#[test]
fn a_wildcard_selector_reaches_everything_and_an_admin_role_is_named() {
    let roles = vec![role(
        "god",
        json!({"allow": {"node_labels": {"*": "*"}, "app_labels": {"*": "*"}, "mcp": {"tools": ["*"]},
               "rules": [{"resources": ["*"], "verbs": ["*"]}]}}),
    )];
    let b = blast_radius(&names(&["god"]), &roles, &[], &cluster());
    assert_eq!(b.nodes.total, 4);
    assert_eq!(b.nodes.by_env.get(NO_ENV), Some(&1));
    assert_eq!((b.apps.total, b.mcp_servers.total), (1, 1));
    assert_eq!(b.mcp_tools, names(&["*"]));
    assert_eq!(b.admin_equivalent.len(), 1, "{:?}", b.admin_equivalent);
    assert_eq!(b.admin_equivalent[0].role, "god");
}

#[test]
fn resource_ids_count_what_they_name_and_unknown_names_are_listed() {
    let requested = names(&[
        "/teleport.example.com/node/n3-host",
        "/teleport.example.com/db/orders",
        "/teleport.example.com/kube:ns:pods/prod-eks/default/api-0",
        "nope",
    ]);
    let b = blast_radius(&requested, &[], &[], &cluster());
    assert_eq!(b.resources.len(), 3);
    assert_eq!(b.kube_clusters.total, 1, "a pod reaches into its cluster");
    assert_eq!((b.nodes.total, b.nodes.by_env.get("staging")), (1, Some(&1)));
    assert_eq!(b.databases.total, 1);
    assert_eq!(b.unknown, names(&["nope"]));
}

#[test]
fn label_matching_follows_teleport() {
    let sel = |pairs: &[(&str, &[&str])]| -> BTreeMap<String, Vec<String>> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), names(v))).collect()
    };
    let labels: BTreeMap<String, String> = [("env", "prod"), ("team", "web")].map(|(k, v)| (k.into(), v.into())).into();
    assert!(!matches_labels(&sel(&[]), &labels), "an empty selector matches nothing");
    assert!(matches_labels(&sel(&[("*", &["*"])]), &BTreeMap::new()), "'*': '*' matches even no labels");
    assert!(matches_labels(&sel(&[("env", &["*"])]), &labels));
    assert!(!matches_labels(&sel(&[("region", &["*"])]), &labels), "the key must be present");
    assert!(matches_labels(&sel(&[("env", &["^pr.d$"]), ("team", &["web", "api"])]), &labels));
    assert!(!matches_labels(&sel(&[("env", &["prod"]), ("team", &["api"])]), &labels), "every key must match");
    assert!(!matches_labels(&sel(&[("env", &["{{internal.env}}"])]), &labels), "a template is not a match");
}
