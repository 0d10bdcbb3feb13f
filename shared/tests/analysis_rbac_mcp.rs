//! RBAC scan, MCP access rules (RBAC-015 … RBAC-019): each finds its seeded risk with the evidence
//! a reviewer acts on, and a well-scoped MCP role set gives no finding at all.

mod analysis_support;

use analysis_support::*;
use mtcp_shared::analysis::Severity;
use mtcp_shared::analysis::rbac::{RbacReport, scan};
use mtcp_shared::teleport::models::Role;
use serde_json::{Value, json};

fn scan_roles(roles: &[Role]) -> RbacReport {
    scan(roles, &[], &strong_auth(), &[], now())
}

/// A role with session options that no other rule objects to.
fn mcp_role(name: &str, allow: Value, deny: Value) -> Role {
    role(name, json!({ "options": { "max_session_ttl": "8h0m0s" }, "allow": allow, "deny": deny }))
}

fn mcp_apps() -> Value {
    json!({ "teleport.internal/app-sub-kind": "mcp", "env": "dev" })
}

#[test]
fn well_scoped_mcp_roles_give_no_finding() {
    let roles = [
        mcp_role(
            "mcp-dev",
            json!({ "app_labels": mcp_apps(), "mcp": { "tools": ["search-files", "slack_*", "^(get|list|read).*$"] } }),
            json!({ "mcp": { "tools": ["slack_post_message", "^delete_.*$", "{{external.denied_tools}}"] } }),
        ),
        mcp_role("mcp-off", json!({ "app_labels": mcp_apps() }), json!({ "app_labels": { "*": "*" } })),
        mcp_role(
            "no-mcp",
            json!({ "app_labels": { "*": "*" }, "logins": ["ubuntu"], "node_labels": { "env": "dev" } }),
            json!({}),
        ),
    ];
    let r = scan_roles(&roles);
    assert!(r.findings.is_empty(), "{:?}", summary(&r));
}

#[test]
fn wildcard_tools_in_any_spelling() {
    for (i, wild) in ["*", "^.*$", "^(.*)$", "**"].iter().enumerate() {
        let name = format!("wild{i}");
        let r =
            scan_roles(&[mcp_role(&name, json!({ "app_labels": mcp_apps(), "mcp": { "tools": [wild] } }), json!({}))]);
        let f = the(&r, "RBAC-015", &name);
        assert_eq!((f.severity, f.rule.as_str()), (Severity::High, "mcp-wildcard-tools"));
        assert_eq!(f.evidence["mcp_tools"], json!([wild]));
    }
    // A catch-all deny cancels it; a regex without anchors is a glob, not a catch-all.
    let denied = mcp_role(
        "dead",
        json!({ "app_labels": mcp_apps(), "mcp": { "tools": ["*"] } }),
        json!({ "mcp": { "tools": ["*"] } }),
    );
    let glob = mcp_role("glob", json!({ "app_labels": mcp_apps(), "mcp": { "tools": [".*"] } }), json!({}));
    assert!(of(&scan_roles(&[denied, glob]), "RBAC-015").is_empty());
}

#[test]
fn mcp_servers_through_wildcard_app_labels() {
    let every =
        mcp_role("every-app", json!({ "app_labels": { "*": "*" }, "mcp": { "tools": ["read_file"] } }), json!({}));
    let any_env = mcp_role("any-env", json!({ "app_labels": { "env": "*" }, "mcp": { "tools": ["*"] } }), json!({}));
    let r = scan_roles(&[every, any_env]);
    let f = the(&r, "RBAC-016", "every-app");
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(f.evidence["wildcard_app_labels"], json!({ "*": ["*"] }));
    assert_eq!(the(&r, "RBAC-016", "any-env").severity, Severity::High, "every tool on every server");
    // Without MCP tools, wildcard app labels are not an MCP risk.
    let apps_only = mcp_role("apps", json!({ "app_labels": { "*": "*" } }), json!({}));
    assert!(of(&scan_roles(&[apps_only]), "RBAC-016").is_empty());
}

#[test]
fn mcp_tools_on_an_admin_equivalent_role() {
    let admin = mcp_role(
        "mcp-admin",
        json!({ "app_labels": mcp_apps(), "mcp": { "tools": ["read_file"] },
                "rules": [{ "resources": ["role"], "verbs": ["create", "update"] }] }),
        json!({}),
    );
    let r = scan_roles(&[admin]);
    let f = the(&r, "RBAC-017", "mcp-admin");
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.evidence["admin_because"], json!(["create, update on role"]));
    // The admin-equivalence comes from the shared rules: a denied write is not admin.
    let tamed = mcp_role(
        "tamed",
        json!({ "app_labels": mcp_apps(), "mcp": { "tools": ["read_file"] },
                "rules": [{ "resources": ["role"], "verbs": ["create"] }] }),
        json!({ "rules": [{ "resources": ["role"], "verbs": ["create"] }] }),
    );
    assert!(of(&scan_roles(&[tamed]), "RBAC-017").is_empty());
}

#[test]
fn deny_entries_that_never_match() {
    let r = scan_roles(&[mcp_role(
        "leaky",
        json!({ "app_labels": mcp_apps(), "mcp": { "tools": ["slack_*", "delete_file"] } }),
        json!({ "mcp": { "tools": ["^delete_.*", "delete_.*", "Slack_post_message", "slack_upload_file"] } }),
    )]);
    let f = the(&r, "RBAC-018", "leaky");
    assert_eq!(f.severity, Severity::Medium);
    let entries: Vec<&str> =
        f.evidence["deny_mcp_tools"].as_array().unwrap().iter().map(|e| e["entry"].as_str().unwrap()).collect();
    assert_eq!(entries, ["^delete_.*", "delete_.*", "Slack_post_message"], "the exact name is fine");
}

#[test]
fn denying_every_tool_leaves_the_server_reachable() {
    let r = scan_roles(&[mcp_role(
        "no-tools",
        json!({ "app_labels": mcp_apps(), "mcp": { "tools": ["read_file"] } }),
        json!({ "mcp": { "tools": ["*"] } }),
    )]);
    let f = the(&r, "RBAC-019", "no-tools");
    assert_eq!(f.severity, Severity::Medium);
    assert_eq!(f.evidence["deny_mcp_tools"], json!(["*"]));
    assert_eq!(r.findings.len(), 1, "{:?}", summary(&r));
}

#[test]
fn a_tool_template_is_a_wildcard_for_holders_whose_trait_is() {
    let templated = mcp_role(
        "mcp-trait",
        json!({ "app_labels": mcp_apps(), "mcp": { "tools": ["{{internal.mcp_tools}}"] } }),
        json!({}),
    );
    let wild = user("ai-bot", &["mcp-trait"], json!({ "traits": { "mcp_tools": ["*"] } }));
    let narrow = user("carol", &["mcp-trait"], json!({ "traits": { "mcp_tools": ["search-files"] } }));
    let r = scan(std::slice::from_ref(&templated), &[wild, narrow.clone()], &strong_auth(), &[], now());
    let f = the(&r, "RBAC-015", "mcp-trait");
    assert_eq!(f.evidence["users_with_wildcard_trait"], json!(["ai-bot"]));
    assert_eq!(f.evidence["mcp_tools"], json!([]));
    let r = scan(&[templated], &[narrow], &strong_auth(), &[], now());
    assert!(of(&r, "RBAC-015").is_empty(), "{:?}", summary(&r));
}
