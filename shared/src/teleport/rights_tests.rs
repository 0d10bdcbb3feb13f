//! The shipped roles and the generated doc against the rights table.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_yaml::Value;

use super::*;
use crate::domain::{CATALOG, Execution};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn role_file(plane: Plane) -> Value {
    let path = repo().join("deploy/teleport").join(format!("{}.yaml", plane.role()));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_sequence().map(|s| s.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

#[test]
fn the_shipped_roles_grant_exactly_what_the_table_says() {
    for plane in Plane::ALL {
        let doc = role_file(plane);
        let name = plane.role();
        assert_eq!(doc["kind"].as_str(), Some("role"), "{name}");
        assert_eq!(doc["version"].as_str(), Some("v7"), "{name}: v7 is what Teleport 17 and 18 both read");
        assert_eq!(doc["metadata"]["name"].as_str(), Some(name));
        assert!(doc["spec"]["deny"].is_null(), "{name}: the shipped roles deny nothing");
        let allow = doc["spec"]["allow"].as_mapping().unwrap_or_else(|| panic!("{name}: no spec.allow"));

        let shipped: BTreeSet<(String, Vec<String>)> = allow
            .get("rules")
            .and_then(Value::as_sequence)
            .map(|rules| {
                rules
                    .iter()
                    .map(|r| {
                        let resources = strings(&r["resources"]);
                        assert_eq!(resources.len(), 1, "{name}: one kind per rule, so each can be dropped alone");
                        (resources[0].clone(), strings(&r["verbs"]))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let table: BTreeSet<(String, Vec<String>)> = plane_rules(plane)
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.iter().map(|s| (*s).to_owned()).collect()))
            .collect();
        assert_eq!(shipped, table, "{name}: rules");

        // Every other allow field is a role field the table names, set to something.
        let mut fields = BTreeSet::new();
        for (key, value) in allow.iter().filter(|(k, _)| k.as_str() != Some("rules")) {
            let key = key.as_str().unwrap();
            match value.as_mapping() {
                Some(inner) if matches!(key, "request" | "review_requests") => {
                    for (sub, v) in inner {
                        assert!(!strings(v).is_empty(), "{name}: {key}.{sub:?} is empty");
                        fields.insert(format!("allow.{key}.{}", sub.as_str().unwrap()));
                    }
                }
                _ => {
                    let set = value.as_mapping().is_some_and(|m| !m.is_empty()) || !strings(value).is_empty();
                    assert!(set, "{name}: {key} is empty");
                    fields.insert(format!("allow.{key}"));
                }
            }
        }
        let table_fields: BTreeSet<String> = plane_fields(plane).into_iter().map(str::to_owned).collect();
        assert_eq!(fields, table_fields, "{name}: role fields");
    }
}

#[test]
fn the_rights_doc_is_generated_from_the_table() {
    let path = repo().join("docs/teleport-rights.md");
    let generated = render_markdown();
    if std::env::var_os("MTCP_WRITE_RIGHTS_DOC").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "docs/teleport-rights.md differs from rights.rs; regenerate it with \
         MTCP_WRITE_RIGHTS_DOC=1 cargo test -p mtcp-shared rights"
    );
}

#[test]
fn every_tool_running_teleport_has_a_row() {
    let rows: Vec<&str> = RIGHTS.iter().map(|r| r.tool.as_str()).collect();
    let mut sorted = rows.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(rows, sorted, "rows in name order, once each");
    for spec in CATALOG {
        let runs_teleport = (spec.execution == Execution::Worker && spec.name != "search_audit")
            || ["start_proxy", "check_policy"].contains(&spec.name);
        assert_eq!(rights_of(spec.name).is_some(), runs_teleport, "{}", spec.name);
    }
    assert_eq!(tools_needing(Plane::Locks, "lock", &["create", "update"]), ["drop_access_request"]);
}
