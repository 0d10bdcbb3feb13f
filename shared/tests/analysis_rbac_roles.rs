//! RBAC scan, role rules: each fires on a minimal example with the right severity and evidence and
//! stays quiet on the clean counterpart; the upstream example roles give the expected findings.

mod analysis_support;

use analysis_support::*;
use mtcp_shared::analysis::Severity;
use mtcp_shared::analysis::rbac::{RbacReport, scan};
use mtcp_shared::teleport::models::{Role, User};
use mtcp_shared::teleport::parse::{parse_roles, parse_users};
use serde_json::json;

fn scan_roles(roles: &[Role], users: &[User]) -> RbacReport {
    scan(roles, users, &strong_auth(), &[], now())
}

/// An admin-equivalent role that is otherwise well configured.
fn editor() -> Role {
    role(
        "editor",
        json!({ "options": { "max_session_ttl": "8h0m0s", "require_session_mfa": true },
                "allow": { "rules": [{ "resources": ["role", "user"], "verbs": ["list", "read", "create", "update"] }] } }),
    )
}

#[test]
fn wildcard_rules_grade_by_what_they_cover() {
    let full = role("god", json!({ "allow": { "rules": [{ "resources": ["*"], "verbs": ["*"] }] } }));
    let read_all = role("reader", json!({ "allow": { "rules": [{ "resources": ["*"], "verbs": ["list", "read"] }] } }));
    let sessions = role("sess", json!({ "allow": { "rules": [{ "resources": ["session"], "verbs": ["*"] }] } }));
    let roles = role("roles", json!({ "allow": { "rules": [{ "resources": ["role"], "verbs": ["*"] }] } }));
    let denied = role(
        "dead",
        json!({ "allow": { "rules": [{ "resources": ["*"], "verbs": ["*"] }] },
                "deny": { "rules": [{ "resources": ["*"], "verbs": ["*"] }] } }),
    );
    let explicit =
        role("ok", json!({ "allow": { "rules": [{ "resources": ["session"], "verbs": ["list", "read"] }] } }));
    let r = scan_roles(&[full, read_all, sessions, roles, denied, explicit], &[]);
    let f = the(&r, "RBAC-001", "god");
    assert_eq!((f.severity, f.rule.as_str()), (Severity::Critical, "wildcard-rules"));
    assert_eq!(f.evidence, json!({ "rules": [{ "resources": ["*"], "verbs": ["*"] }] }));
    assert_eq!(the(&r, "RBAC-001", "reader").severity, Severity::High);
    assert_eq!(the(&r, "RBAC-001", "sess").severity, Severity::Medium);
    assert_eq!(the(&r, "RBAC-001", "roles").severity, Severity::High);
    assert_eq!(of(&r, "RBAC-001").len(), 4, "deny *:* and explicit rules do not fire: {:?}", summary(&r));
    assert_eq!(r.admin_equivalent_roles, ["god", "roles"]);
}

#[test]
fn root_on_every_node_is_critical_literal_and_high_through_traits() {
    let literal = role("ops", json!({ "allow": { "logins": ["root"], "node_labels": { "*": "*" } } }));
    let traits = role("access", json!({ "allow": { "logins": ["{{internal.logins}}"], "node_labels": { "*": "*" } } }));
    let narrow = role("staging", json!({ "allow": { "logins": ["root"], "node_labels": { "env": "staging" } } }));
    let root_user = user("alice", &["access"], json!({ "traits": { "logins": ["root", "ubuntu"] } }));
    let plain_user = user("bob", &["access"], json!({ "traits": { "logins": ["ubuntu"] } }));
    let r = scan_roles(&[literal.clone(), traits.clone(), narrow], &[root_user, plain_user.clone()]);
    let f = the(&r, "RBAC-002", "ops");
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(f.evidence["root_via"], "literal");
    let f = the(&r, "RBAC-002", "access");
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.evidence["users_with_root_trait"], json!(["alice"]));
    assert_eq!(of(&r, "RBAC-002").len(), 2, "labelled nodes do not fire");

    // Clean counterparts: nobody's trait holds root; root denied.
    let denied = role(
        "ops",
        json!({ "allow": { "logins": ["root"], "node_labels": { "*": "*" } }, "deny": { "logins": ["root"] } }),
    );
    let r = scan_roles(&[traits, denied], &[plain_user]);
    assert!(of(&r, "RBAC-002").is_empty(), "{:?}", summary(&r));
}

#[test]
fn impersonation_is_high_and_critical_with_wildcards_or_admin_roles() {
    let any = role("imp-any", json!({ "allow": { "impersonate": { "users": ["*"], "roles": ["*"] } } }));
    let admin = role("imp-admin", json!({ "allow": { "impersonate": { "users": ["ci"], "roles": ["editor"] } } }));
    let narrow = role(
        "imp-bot",
        json!({ "allow": { "impersonate": { "users": ["ci"], "roles": ["deployer"], "where": "equals(user.metadata.name, \"ci\")" } } }),
    );
    let r = scan_roles(&[any, admin, narrow, editor()], &[]);
    assert_eq!(the(&r, "RBAC-003", "imp-any").severity, Severity::Critical);
    let f = the(&r, "RBAC-003", "imp-admin");
    assert_eq!((f.severity, &f.evidence["admin_equivalent_roles"]), (Severity::Critical, &json!(["editor"])));
    let f = the(&r, "RBAC-003", "imp-bot");
    assert_eq!((f.severity, &f.evidence["users"]), (Severity::High, &json!(["ci"])));
    assert!(of(&r, "RBAC-003").iter().all(|f| f.subject != "editor"));
}

#[test]
fn requests_for_admin_roles_need_thresholds() {
    let bare = role("req", json!({ "allow": { "request": { "roles": ["editor"] } } }));
    let glob = role("req-glob", json!({ "allow": { "request": { "search_as_roles": ["edit*"] } } }));
    let guarded = role(
        "req-guarded",
        json!({ "allow": { "request": { "roles": ["editor"], "thresholds": [{ "approve": 2, "deny": 1 }] } } }),
    );
    let harmless = role("req-dev", json!({ "allow": { "request": { "roles": ["dev"] } } }));
    let denied = role(
        "req-denied",
        json!({ "allow": { "request": { "roles": ["*"] } }, "deny": { "request": { "roles": ["editor"] } } }),
    );
    let dev = role("dev", json!({ "allow": { "logins": ["ubuntu"], "node_labels": { "env": "dev" } } }));
    let r = scan_roles(&[bare, glob, guarded, harmless, denied, dev, editor()], &[]);
    let f = the(&r, "RBAC-004", "req");
    assert_eq!((f.severity, &f.evidence["requestable_admin_roles"]), (Severity::High, &json!(["editor"])));
    assert_eq!(f.evidence["thresholds"], json!([]));
    assert_eq!(the(&r, "RBAC-004", "req-glob").severity, Severity::High);
    assert_eq!(of(&r, "RBAC-004").len(), 2, "{:?}", summary(&r));
}

#[test]
fn reviewing_admin_requests_is_medium() {
    let approver = role("approver", json!({ "allow": { "review_requests": { "roles": ["editor", "dev"] } } }));
    let dev_approver = role("dev-approver", json!({ "allow": { "review_requests": { "roles": ["dev"] } } }));
    let r = scan_roles(&[approver, dev_approver, editor()], &[]);
    let f = the(&r, "RBAC-005", "approver");
    assert_eq!((f.severity, &f.evidence["reviewable_admin_roles"]), (Severity::Medium, &json!(["editor"])));
    assert_eq!(of(&r, "RBAC-005").len(), 1);
}

#[test]
fn privileged_roles_need_session_mfa_short_ttls_and_no_agent_forwarding() {
    let lax = role(
        "lax-admin",
        json!({ "options": { "forward_agent": true, "max_session_ttl": "30h0m0s" },
                "allow": { "rules": [{ "resources": ["token"], "verbs": ["create"] }] } }),
    );
    let weak_cluster = auth(json!({ "type": "local", "second_factor": "on" }));
    let r = scan(&[lax.clone(), editor()], &[], &weak_cluster, &[], now());
    let f = the(&r, "RBAC-008", "lax-admin");
    assert_eq!(f.severity, Severity::High);
    assert_eq!(f.evidence["privileged_because"], json!(["admin-equivalent: create on token"]));
    assert_eq!(the(&r, "RBAC-010", "lax-admin").severity, Severity::High);
    assert_eq!(the(&r, "RBAC-009", "lax-admin").severity, Severity::Medium);
    assert!(r.findings.iter().all(|f| f.subject != "editor"), "editor requires session MFA: {:?}", summary(&r));
    // The cluster requiring per-session MFA covers every role.
    assert!(of(&scan_roles(&[lax], &[]), "RBAC-008").is_empty());
    // An unprivileged role forwarding the agent is not flagged.
    let plain = role("plain", json!({ "options": { "forward_agent": true }, "allow": { "logins": ["ubuntu"] } }));
    assert!(scan(&[plain], &[], &weak_cluster, &[], now()).findings.is_empty());
}

#[test]
fn session_ttl_thresholds() {
    let ttl = |name: &str, ttl: &str| role(name, json!({ "options": { "max_session_ttl": ttl } }));
    let roles = [ttl("d31", "31h"), ttl("d30", "30h"), ttl("d13", "13h"), ttl("d12", "12h"), role("unset", json!({}))];
    let r = scan_roles(&roles, &[]);
    let f = the(&r, "RBAC-009", "d31");
    assert_eq!((f.severity, &f.evidence["max_session_ttl_seconds"]), (Severity::High, &json!(31 * 3600)));
    assert_eq!(the(&r, "RBAC-009", "d30").severity, Severity::Medium);
    assert_eq!(the(&r, "RBAC-009", "d13").severity, Severity::Medium);
    assert_eq!(r.findings.len(), 3, "{:?}", summary(&r));
}

fn yaml_roles(name: &str) -> Vec<Role> {
    parse_roles(&fixture(&format!("resources/{name}"))).unwrap()
}

#[test]
fn upstream_example_roles() {
    // examples/resources/admin.yaml: *:*, root on every node, agent forwarding, 30h.
    let r = scan_roles(&yaml_roles("examples-resources-admin.yaml"), &[]);
    let got = summary(&r);
    for (id, sev) in [("RBAC-001", "critical"), ("RBAC-002", "critical"), ("RBAC-010", "high"), ("RBAC-009", "medium")]
    {
        assert!(got.contains(&(id.into(), "admin".into(), sev.into())), "{id} {sev} missing: {got:?}");
    }
    assert_eq!(got.len(), 4, "{got:?}");
    // examples/resources/role.yaml: write on role (admin-equivalent), root on every node.
    let r = scan_roles(&yaml_roles("examples-resources-role.yaml"), &[]);
    assert_eq!(r.admin_equivalent_roles, ["admin"]);
    assert_eq!(the(&r, "RBAC-002", "admin").severity, Severity::Critical);
    assert!(of(&r, "RBAC-001").is_empty(), "no wildcard rules in role.yaml");
    // examples/resources/user.yaml: role create survives the deny of update/delete.
    let r = scan_roles(&yaml_roles("examples-resources-user-role.yaml"), &[]);
    assert_eq!(r.admin_equivalent_roles, ["user"]);
    assert_eq!(the(&r, "RBAC-010", "user").evidence["privileged_because"], json!(["admin-equivalent: create on role"]));
    assert!(of(&r, "RBAC-002").is_empty(), "staging only, no root");
    // Upstream v8 Kubernetes request roles: nothing an RBAC reviewer must act on.
    let r = scan_roles(&yaml_roles("lib-services-testdata-roles-v8_kube_accessrequest_validate.yaml"), &[]);
    assert!(r.findings.is_empty(), "{:?}", summary(&r));
    assert_eq!(r.roles_scanned, 19);
}

#[test]
fn composed_access_role_and_alice() {
    let roles = parse_roles(&fixture("composed/tctl-get-roles.json")).unwrap();
    let users = parse_users(&fixture("composed/tctl-get-users.json")).unwrap();
    let auth =
        mtcp_shared::teleport::parse::parse_auth_preference(&fixture("composed/tctl-get-cluster_auth_preference.json"))
            .unwrap();
    let r = scan(&roles, &users, &auth, &[], now());
    let mut got = summary(&r);
    got.sort();
    let expected = [
        ("RBAC-002", "access", "high"), // {{internal.logins}} includes root for alice, node_labels *:*
        ("RBAC-006", "alice", "medium"), // holds editor (undefined here: assumed the preset), WebAuthn device
        ("RBAC-008", "access", "high"), // privileged through alice's trait, no session MFA anywhere
        ("RBAC-009", "access", "medium"), // 30h
        ("RBAC-016", "access", "medium"), // MCP tools on every app (app_labels '*': '*')
    ];
    assert_eq!(got, expected.map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned())));
    assert_eq!((r.roles_scanned, r.users_scanned), (1, 1));
}
