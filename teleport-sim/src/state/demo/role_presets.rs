//! The preset roles every cluster has (`access`, `editor`, `auditor`) and the building blocks
//! the demo's custom roles share.

use super::{Gen, labels, metadata};
use crate::value::{Map, Value, obj};

const CRUD: &[&str] = &["list", "create", "read", "update", "delete"];

/// A `rules` entry.
pub fn rule(resources: &[&str], verbs: &[&str]) -> Value {
    obj! { "resources" => resources.to_vec(), "verbs" => verbs.to_vec() }
}

/// `spec.options` in `RoleOptions` order; `require_session_mfa` only when set (omitempty).
pub fn options(max_session_ttl: &str, forward_agent: bool, require_mfa: Option<bool>) -> Value {
    let mut map = Map::new();
    map.insert("forward_agent", Value::Bool(forward_agent));
    map.insert("max_session_ttl", Value::from(max_session_ttl));
    map.insert("cert_format", Value::from("standard"));
    if let Some(mfa) = require_mfa {
        map.insert("require_session_mfa", Value::Bool(mfa));
    }
    map.insert("record_session", obj! { "desktop" => true, "default" => "best_effort" });
    map.insert("desktop_clipboard", Value::Bool(true));
    map.insert("desktop_directory_sharing", Value::Bool(true));
    map.insert("pin_source_ip", Value::Bool(false));
    map.insert("ssh_file_copy", Value::Bool(true));
    map.insert("create_desktop_user", Value::Bool(false));
    map.insert("create_db_user", Value::Bool(false));
    map.insert(
        "ssh_port_forwarding",
        obj! { "local" => obj! { "enabled" => true }, "remote" => obj! { "enabled" => true } },
    );
    Value::Object(map)
}

/// A `v8` role.
pub fn role(
    name: &str,
    description: &str,
    preset: bool,
    options: Value,
    allow: Value,
    deny: Value,
    rng: &mut Gen,
) -> Value {
    let labels = preset.then(|| labels(&[("teleport.internal/resource-type", "preset")]));
    obj! {
        "kind" => "role",
        "version" => "v8",
        "metadata" => metadata(name, Some(description), labels, None, rng),
        "spec" => obj! { "options" => options, "allow" => allow, "deny" => deny },
    }
}

fn wildcard() -> Value {
    obj! { "*" => "*" }
}

/// The preset `access` role.
pub fn access(rng: &mut Gen) -> Value {
    let session = obj! {
        "resources" => vec!["session"],
        "verbs" => vec!["read", "list"],
        "where" => "contains(session.participants, user.metadata.name)",
    };
    let allow = obj! {
        "logins" => vec!["{{internal.logins}}"],
        "node_labels" => wildcard(),
        "rules" => vec![rule(&["event"], &["list", "read"]), session],
        "kubernetes_groups" => vec!["{{internal.kubernetes_groups}}"],
        "app_labels" => wildcard(),
        "kubernetes_labels" => wildcard(),
        "db_labels" => wildcard(),
        "db_names" => vec!["{{internal.db_names}}"],
        "db_users" => vec!["{{internal.db_users}}"],
        "kubernetes_resources" => vec![obj! {
            "kind" => "*", "namespace" => "*", "name" => "*", "verbs" => vec!["*"],
        }],
        "mcp" => obj! { "tools" => vec!["{{internal.mcp_tools}}"] },
    };
    let options = options("30h0m0s", false, None);
    role("access", "Access cluster resources", true, options, allow, obj! {}, rng)
}

/// The preset `editor` role: full control of cluster configuration.
pub fn editor(rng: &mut Gen) -> Value {
    let configurable = [
        "user",
        "role",
        "bot",
        "oidc",
        "saml",
        "github",
        "cluster_auth_preference",
        "cluster_networking_config",
        "session_recording_config",
        "trusted_cluster",
        "remote_cluster",
        "token",
        "lock",
        "access_list",
        "integration",
        "auto_update_config",
    ];
    let mut rules: Vec<Value> = configurable.iter().map(|r| rule(&[*r], CRUD)).collect();
    rules.push(rule(&["event"], &["list", "read"]));
    rules.push(rule(&["access_request"], &["list", "read", "update", "delete"]));
    let allow = obj! { "rules" => rules };
    let options = options("30h0m0s", true, None);
    role("editor", "Edit cluster configuration", true, options, allow, obj! {}, rng)
}

/// The preset `auditor` role: read audit events and recordings, log in nowhere.
pub fn auditor(rng: &mut Gen) -> Value {
    let no_login = format!("no-login-{}", rng.uuid());
    let allow = obj! {
        "logins" => vec![no_login.as_str()],
        "rules" => vec![
            rule(&["session"], &["list", "read"]),
            rule(&["event"], &["list", "read"]),
            rule(&["session_tracker"], &["list", "read"]),
            rule(&["cluster_alert"], &["list", "read"]),
        ],
    };
    let options = options("30h0m0s", false, None);
    let description = "Review cluster events and replay sessions";
    role("auditor", description, true, options, allow, obj! {}, rng)
}
