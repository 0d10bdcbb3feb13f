//! RBAC scan, user / auth-preference / token rules, the clean cluster, ordering, masking of join
//! secrets, and the output schema.

mod analysis_support;

use analysis_support::*;
use chrono::TimeDelta;
use mtcp_shared::analysis::Severity;
use mtcp_shared::analysis::rbac::{RbacReport, SubjectKind, scan};
use mtcp_shared::teleport::models::{ProvisionToken, Role, User};
use mtcp_shared::teleport::views::mask_token_name;
use serde_json::json;

fn editor() -> Role {
    role(
        "editor",
        json!({ "options": { "max_session_ttl": "8h0m0s", "require_session_mfa": true },
                "allow": { "rules": [{ "resources": ["user"], "verbs": ["update"] }] } }),
    )
}

fn dev() -> Role {
    role(
        "dev",
        json!({ "options": { "max_session_ttl": "8h0m0s" },
                "allow": { "logins": ["{{internal.logins}}"], "node_labels": { "env": ["dev", "staging"] },
                           "rules": [{ "resources": ["session"], "verbs": ["list", "read"] }],
                           "request": { "roles": ["editor"], "thresholds": [{ "approve": 2, "deny": 1 }] },
                           "review_requests": { "roles": ["dev"] } } }),
    )
}

fn scan_users(roles: &[Role], users: &[User]) -> RbacReport {
    scan(roles, users, &strong_auth(), &[], now())
}

#[test]
fn a_clean_cluster_has_no_findings() {
    let users = [user("bob", &["dev"], json!({ "traits": { "logins": ["ubuntu"] } }))];
    let tokens = [
        token("iam-nodes", json!({}), json!({ "roles": ["Node"], "join_method": "iam" })),
        token(
            "5f4dcc3b5aa765d61d8327deb882cf99",
            json!({ "expires": iso(now() + TimeDelta::hours(1)) }),
            json!({ "roles": ["Node"], "join_method": "token" }),
        ),
    ];
    let r = scan(&[editor(), dev()], &users, &strong_auth(), &tokens, now());
    assert!(r.findings.is_empty(), "{:#?}", r.findings);
    assert_eq!((r.summary.total(), r.roles_scanned, r.users_scanned), (0, 2, 1));
    assert_eq!(r.admin_equivalent_roles, ["editor"]);
}

#[test]
fn admin_equivalent_users_are_medium_and_high_without_mfa() {
    let mut no_mfa = user("root-bot", &["editor"], json!({}));
    no_mfa.status.mfa_weakest_device = "1".into();
    let mut sso =
        user("sso-admin", &["editor"], json!({ "github_identities": [{ "connector_id": "github", "username": "x" }] }));
    sso.status.mfa_weakest_device = "1".into();
    let users = [
        user("alice", &["editor", "dev"], json!({})),
        no_mfa,
        sso,
        user("legacy", &["admin"], json!({})),
        user("bob", &["dev"], json!({})),
    ];
    let r = scan_users(&[editor(), dev()], &users);
    let f = the(&r, "RBAC-006", "alice");
    assert_eq!((f.severity, f.subject_kind), (Severity::Medium, SubjectKind::User));
    assert_eq!(f.evidence["admin_equivalent_roles"], json!({ "editor": ["update on user"] }));
    assert_eq!(f.evidence["mfa_weakest_device"], "webauthn");
    assert_eq!(the(&r, "RBAC-006", "root-bot").severity, Severity::High);
    assert_eq!(the(&r, "RBAC-006", "sso-admin").severity, Severity::Medium, "the IdP does the MFA");
    let f = the(&r, "RBAC-006", "legacy");
    assert!(f.evidence["admin_equivalent_roles"]["admin"][0].as_str().unwrap().starts_with("preset admin role name"));
    assert_eq!(of(&r, "RBAC-006").len(), 4, "bob holds no admin role");
}

#[test]
fn locked_or_expired_users_still_holding_roles() {
    let locked = user(
        "dave",
        &["dev"],
        json!({ "status": { "is_locked": true, "locked_message": "too many failed logins",
                            "lock_expires": iso(now() + TimeDelta::minutes(30)) } }),
    );
    let unlocked = user(
        "ed",
        &["dev"],
        json!({ "status": { "is_locked": true, "lock_expires": iso(now() - TimeDelta::minutes(1)) } }),
    );
    let expired = user("erin", &["dev"], json!({ "expires": iso(now() - TimeDelta::days(3)) }));
    let expired_admin = user("frank", &["editor"], json!({ "expires": iso(now() - TimeDelta::days(3)) }));
    let roleless = user("gone", &[], json!({ "status": { "is_locked": true } }));
    let r = scan_users(&[editor(), dev()], &[locked, unlocked, expired, expired_admin, roleless]);
    let f = the(&r, "RBAC-011", "dave");
    assert_eq!(
        (f.severity, &f.evidence["locked"], &f.evidence["expired"]),
        (Severity::Low, &json!(true), &json!(false))
    );
    assert_eq!(f.evidence["locked_message"], "too many failed logins");
    assert_eq!(the(&r, "RBAC-011", "erin").severity, Severity::Low);
    let f = the(&r, "RBAC-011", "frank");
    assert_eq!((f.severity, &f.evidence["privileged_roles"]), (Severity::Medium, &json!(["editor"])));
    assert_eq!(of(&r, "RBAC-011").len(), 3, "a lifted lock and a user without roles do not fire");
}

#[test]
fn second_factor_and_local_auth() {
    let check = |spec: serde_json::Value| scan(&[], &[], &auth(spec), &[], now());
    let off = check(json!({ "type": "local", "second_factor": "off" }));
    let f = the(&off, "RBAC-007", "cluster-auth-preference");
    assert_eq!((f.severity, f.subject_kind), (Severity::Critical, SubjectKind::AuthPreference));
    assert_eq!(f.evidence["second_factors"], json!([]));
    let optional = check(json!({ "type": "local", "second_factor": "optional" }));
    assert_eq!(the(&optional, "RBAC-007", "cluster-auth-preference").severity, Severity::High);
    let sso_only = check(json!({ "type": "oidc", "second_factor": "off", "allow_local_auth": false }));
    assert_eq!(summary(&sso_only), [("RBAC-007".into(), "cluster-auth-preference".into(), "medium".into())]);
    let sso_and_local = check(json!({ "type": "saml", "second_factors": ["webauthn"] }));
    let f = the(&sso_and_local, "RBAC-014", "cluster-auth-preference");
    assert_eq!((f.severity, &f.evidence["type"]), (Severity::Medium, &json!("saml")));
    assert_eq!(sso_and_local.findings.len(), 1);
    assert!(check(json!({ "type": "local", "second_factor": "on" })).findings.is_empty());
}

const SECRETS: [&str; 4] = [
    "0872a70870f8cd6a0761d9ca744f6d9b",
    "d6be5b3d324e052f8cbe2486d8c06323",
    "e0b339ddc2b5bf7851df506c2e445f34",
    "shortsecret",
];

fn risky_tokens() -> Vec<ProvisionToken> {
    let node = json!({ "roles": ["Node"], "join_method": "token" });
    vec![
        token(SECRETS[0], json!({ "expires": iso(now() + TimeDelta::days(365)) }), node.clone()),
        token(SECRETS[1], json!({ "labels": { "teleport.dev/origin": "config-file" } }), node.clone()),
        token(SECRETS[2], json!({ "expires": iso(now() + TimeDelta::minutes(25)) }), node.clone()),
        token(SECRETS[3], json!({}), json!({ "roles": ["Proxy"] })),
        token("epoch-static-token-abcdef", json!({ "expires": "1970-01-01T00:00:00Z" }), node),
        token("github-ci-bot", json!({}), json!({ "roles": ["Bot"], "join_method": "github", "bot_name": "ci" })),
    ]
}

#[test]
fn long_lived_and_static_join_tokens() {
    let r = scan(&[], &[], &strong_auth(), &risky_tokens(), now());
    assert_eq!(mask_token_name(SECRETS[0]), "************************744f6d9b");
    let f = the(&r, "RBAC-012", &mask_token_name(SECRETS[0]));
    assert_eq!((f.severity, f.subject_kind), (Severity::High, SubjectKind::Token));
    assert_eq!(f.evidence["roles"], json!(["Node"]));
    assert!(f.title.contains("365 more days"), "{}", f.title);
    let f = the(&r, "RBAC-013", &mask_token_name(SECRETS[1]));
    assert_eq!((f.severity, &f.evidence["static"]), (Severity::High, &json!(true)));
    assert_eq!(the(&r, "RBAC-012", "***********").evidence["expires"], json!(null), "unset method means token");
    assert_eq!(the(&r, "RBAC-013", "******************-abcdef").severity, Severity::High, "epoch expiry = static");
    assert_eq!(r.findings.len(), 4, "short-lived and github tokens do not fire: {:?}", summary(&r));
}

#[test]
fn join_secrets_never_appear_in_findings() {
    let r = scan(&[], &[], &strong_auth(), &risky_tokens(), now());
    let text = serde_json::to_string(&r).unwrap();
    for secret in SECRETS.iter().chain(&["epoch-static-token-abcdef"]) {
        assert!(!text.contains(secret), "{secret} leaked in {text}");
    }
    assert!(r.findings.iter().all(|f| f.subject.starts_with('*')));
}

#[test]
fn findings_sort_by_severity_then_subject() {
    let roles = [
        role("zz-god", json!({ "allow": { "rules": [{ "resources": ["*"], "verbs": ["*"] }] } })),
        role("aa-long", json!({ "options": { "max_session_ttl": "13h" } })),
        role("mm-long", json!({ "options": { "max_session_ttl": "40h" } })),
    ];
    let users = [
        user("bb", &["zz-god"], json!({})),
        user("cc", &["dev"], json!({ "expires": iso(now() - TimeDelta::days(1)) })),
    ];
    let r = scan(&roles, &users, &auth(json!({ "second_factor": "off" })), &risky_tokens(), now());
    let ranks: Vec<(Severity, &str)> = r.findings.iter().map(|f| (f.severity, f.subject.as_str())).collect();
    let mut sorted = ranks.clone();
    sorted.sort();
    assert_eq!(ranks, sorted);
    assert_eq!(r.findings[0].severity, Severity::Critical);
    assert_eq!(r.findings.last().unwrap().severity, Severity::Low);
    let s = r.summary;
    assert_eq!((s.critical, s.high, s.medium, s.low, s.total()), (2, 6, 2, 1, r.findings.len()));
}

#[test]
fn report_schema_is_a_described_object() {
    let schema = schemars::schema_for!(RbacReport);
    let v = schema.as_value();
    assert_eq!(v["type"], "object", "{v}");
    for (name, prop) in v["properties"].as_object().unwrap() {
        assert!(prop.get("description").is_some(), "{name} has no description");
    }
    let text = v.to_string();
    assert!(text.contains(r#""critical""#) && text.contains(r#""auth_preference""#), "{text}");
}
