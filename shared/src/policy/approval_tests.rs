//! `require_approval`: which calls wait, for whom, and the rules refused at load because they could
//! never be satisfied or name nothing that can wait.

use super::*;
use crate::domain::{ActorKind, AuthSource};

fn settings() -> PolicySettings {
    PolicySettings {
        allow_tsh_passthrough: false,
        allow_tctl_passthrough: false,
        default_proxy_ttl_seconds: 3600,
        max_concurrent_proxies_per_actor: 10,
        max_in_flight_calls_per_actor: None,
        rate_limit: None,
    }
}

fn actor(id: &str, role: &str, groups: &[&str]) -> Actor {
    Actor {
        id: id.into(),
        kind: ActorKind::User,
        role: role.into(),
        source: AuthSource::Jwt,
        groups: groups.iter().map(|g| g.to_string()).collect(),
    }
}

const FILE: &str = r#"
roles:
  operator:
    grants: ["proxy.*", "access.*"]
    constraints:
      require_approval:
        capabilities: ["proxy.start", "access.review"]
        kinds: [proxy_db, proxy_kube]
        approvers: { roles: [admin], actors: ["oidc:carol"], groups: [sre] }
        approvals: 2
        expires_after: 30m
"#;

#[test]
fn a_rule_holds_the_capabilities_and_kinds_it_names_for_the_approvers_it_names() {
    let p = Policy::from_file(settings(), FILE).unwrap();
    let ctx = CallContext { mutating: true, reason: Some("r"), ..Default::default() };
    let d = p.evaluate(&actor("oidc:bob", "operator", &[]), Capability::ProxyStart, &ctx);
    let c = d.constraints.unwrap();
    let rule = c.approval_for(Capability::ProxyStart, Some("proxy_db")).expect("a database proxy waits");
    assert_eq!((rule.approvals, rule.expires_after_seconds), (2, 1800));
    assert!(c.approval_for(Capability::ProxyStart, Some("proxy_app")).is_none(), "kinds narrow proxy.start");
    assert!(c.approval_for(Capability::AccessReview, None).is_some(), "kinds do not narrow other capabilities");
    assert!(c.approval_for(Capability::AccessCreate, None).is_none());
    assert_eq!(rule.describe(), "2 approvals by role admin or actor oidc:carol or group sre, within 30m");
    assert!(rule.approvers.include(&actor("oidc:x", "admin", &[])));
    assert!(rule.approvers.include(&actor("oidc:carol", "operator", &[])));
    assert!(rule.approvers.include(&actor("oidc:dan", "user", &["sre"])));
    assert!(!rule.approvers.include(&actor("oidc:eve", "operator", &["dev"])));
    // The built-in roles ask for no approval.
    let builtin = Policy::builtin(settings()).evaluate(&actor("a", "operator", &[]), Capability::ProxyStart, &ctx);
    assert!(builtin.constraints.unwrap().require_approval.is_empty());
}

#[test]
fn one_rule_or_a_list() {
    let yaml = "roles:\n  x:\n    grants: ['*']\n    constraints:\n      require_approval:\n        - { capabilities: [proxy.start], approvers: { roles: [admin] } }\n        - { capabilities: [access.*], approvers: { actors: [alice] }, expires_after: 1h }\n";
    let p = Policy::from_file(settings(), yaml).unwrap();
    let d = p.evaluate(&actor("a", "x", &[]), Capability::AccessDrop, &CallContext::default());
    let rules = d.constraints.unwrap().require_approval;
    assert_eq!(rules.len(), 2);
    assert_eq!((rules[0].approvals, rules[0].expires_after_seconds), (1, 900), "defaults: one approval, 15m");
}

#[test]
fn rules_that_could_never_be_met_or_name_nothing_that_waits_are_refused_by_key() {
    let rule =
        |body: &str| format!("roles:\n  x:\n    grants: ['*']\n    constraints:\n      require_approval: {body}\n");
    for (body, key, says) in [
        ("{ capabilities: [proxy.stop], approvers: { roles: [admin] } }", "capabilities[0]", "never wait"),
        ("{ capabilities: [self.*], approvers: { roles: [admin] } }", "capabilities[0]", "workers run"),
        ("{ capabilities: [proxy.launch], approvers: { roles: [admin] } }", "capabilities[0]", "names no capability"),
        ("{ capabilities: [access.review], kinds: [proxy_db], approvers: { roles: [admin] } }", "kinds", "proxy.start"),
        ("{ capabilities: [proxy.start], kinds: [telnet], approvers: { roles: [admin] } }", "kinds", "unknown kind"),
        ("{ capabilities: [proxy.start], approvers: {} }", "approvers", "at least one"),
        ("{ capabilities: [proxy.start], approvers: { roles: [wizard] } }", "approvers.roles", "unknown role"),
        ("{ capabilities: [proxy.start], approvers: { roles: [operator] } }", "approvers.roles", "approval.review"),
        (
            "{ capabilities: [proxy.start], approvers: { actors: [alice] }, approvals: 2 }",
            "approvals",
            "never be reached",
        ),
        ("{ capabilities: [proxy.start], approvers: { roles: [admin] }, approvals: 0 }", "approvals", "between 1"),
        ("{ capabilities: [proxy.start], approvers: { roles: [admin] }, expires_after: 10s }", "expires_after", "1m"),
        (
            "{ capabilities: [proxy.start], approvers: { roles: [admin] }, approverz: 1 }",
            "require_approval[0]",
            "approverz",
        ),
    ] {
        let err = Policy::from_file(settings(), &rule(body)).unwrap_err().to_string();
        assert!(err.contains(key) && err.contains(says), "{body}: {err}");
    }
}
