//! The built-in role matrix (README, "Built-in roles"), capability by capability.

use super::*;
use crate::domain::{ActorKind, AuthSource};

fn settings(passthrough: bool) -> PolicySettings {
    PolicySettings {
        allow_tsh_passthrough: passthrough,
        allow_tctl_passthrough: passthrough,
        default_proxy_ttl_seconds: 3600,
        max_concurrent_proxies_per_actor: 10,
        max_in_flight_calls_per_actor: Some(16),
        rate_limit: Some(RateLimit { requests: 600, per_seconds: 60 }),
    }
}

/// An API-key user of `role` (the other policy tests use it too).
pub(super) fn actor(role: &str) -> Actor {
    Actor {
        id: format!("{role}-1"),
        kind: ActorKind::User,
        role: role.into(),
        source: AuthSource::ConfigApiKey,
        groups: vec![],
    }
}

/// What the README's built-in role table grants each role, written out by hand (not derived from the code).
fn expected(role: &str, cap: Capability) -> bool {
    use Capability::*;
    let name = cap.as_str();
    let family = name.split('.').next().unwrap();
    if cap.is_self_service() {
        return true;
    }
    match role {
        "admin" => !cap.is_passthrough(), // passthrough is off in this settings
        "operator" => matches!(family, "inventory" | "security" | "health" | "audit" | "access" | "proxy"),
        "user" => {
            matches!(
                cap,
                AccessList
                    | AccessShow
                    | AccessCreate
                    | AccessDrop
                    | InventoryDatabases
                    | InventoryApps
                    | InventoryKubeClusters
                    | InventoryMcpServers
                    | InventoryWindowsDesktops
            ) || family == "proxy"
        }
        "readonly" => matches!(family, "inventory" | "health" | "audit") || cap == SecurityRbacScan,
        _ => false,
    }
}

#[test]
fn builtin_roles_match_the_design_matrix() {
    let policy = Policy::builtin(settings(false));
    let ctx = CallContext::default();
    for role in BUILTIN_ROLES {
        for cap in Capability::ALL {
            let d = policy.evaluate(&actor(role), *cap, &ctx);
            assert_eq!(d.allow, expected(role, *cap), "role {role} capability {cap}: {}", d.reason);
            assert_eq!(d.policy_version, policy.version());
        }
    }
}

#[test]
fn unknown_role_is_denied_everything_but_says_why() {
    let policy = Policy::builtin(settings(true));
    let d = policy.evaluate(&actor("superuser"), Capability::InventoryNodes, &CallContext::default());
    assert!(!d.allow);
    assert!(d.reason.contains("superuser"), "{}", d.reason);
}

#[test]
fn passthrough_needs_the_switch_and_admin() {
    let ctx = CallContext { mutating: true, reason: Some("INC-1 debugging"), ..Default::default() };
    let off = Policy::builtin(settings(false));
    let d = off.evaluate(&actor("admin"), Capability::PassthroughTsh, &ctx);
    assert!(!d.allow);
    assert!(d.reason.contains("policy.allow_tsh_passthrough"), "{}", d.reason);

    let on = Policy::builtin(settings(true));
    assert!(on.evaluate(&actor("admin"), Capability::PassthroughTctl, &ctx).allow);
    assert!(!on.evaluate(&actor("operator"), Capability::PassthroughTctl, &ctx).allow);
    assert_ne!(on.version(), off.version(), "the switch is part of the policy version");
}

#[test]
fn mutating_calls_need_a_reason() {
    let policy = Policy::builtin(settings(false));
    for reason in [None, Some(""), Some("   ")] {
        let d = policy.evaluate(
            &actor("operator"),
            Capability::AccessCreate,
            &CallContext { mutating: true, reason, ..Default::default() },
        );
        assert!(!d.allow);
        assert!(d.reason.contains("reason"), "{}", d.reason);
    }
    let ok = CallContext { mutating: true, reason: Some("INC-42"), ..Default::default() };
    assert!(policy.evaluate(&actor("operator"), Capability::AccessCreate, &ok).allow);
}

#[test]
fn users_get_tighter_constraints_than_operators() {
    let policy = Policy::builtin(settings(false));
    let ctx = CallContext::default();
    let user = policy.evaluate(&actor("user"), Capability::ProxyList, &ctx).constraints.unwrap();
    let op = policy.evaluate(&actor("operator"), Capability::ProxyList, &ctx).constraints.unwrap();
    assert!(user.max_ttl_seconds < op.max_ttl_seconds);
    assert!(user.max_concurrent_proxies < op.max_concurrent_proxies);
    assert!(user.own_objects_only);
    assert!(!user.allowed_proxy_kinds.contains(&"vnet".to_owned()));
}

#[test]
fn capabilities_of_lists_exactly_the_granted_ones() {
    let policy = Policy::builtin(settings(false));
    let caps = policy.capabilities_of("readonly");
    assert!(caps.contains(&Capability::InventoryTokens));
    assert!(caps.contains(&Capability::SelfWhoami));
    assert!(!caps.contains(&Capability::AccessCreate));
    assert!(!caps.contains(&Capability::AdminOperations));
}

const FILE: &str = r#"
roles:
  auditor:
    description: read the trail and inventory
    grants: ["inventory.*", "audit.*", "admin.operations"]
    constraints:
      rate_limit: { requests: 5, per: 1m }
  change-manager:
    grants: ["access.*"]
    constraints:
      require_ticket: true
      ticket_pattern: "^CHG-[0-9]+$"
      max_ttl_seconds: 600
bindings:
  - { actor: carol, role: auditor }
  - { group: sre, role: operator }
  - { claim: { name: department, value: security }, role: auditor }
default_role: readonly
"#;

fn who<'a>(
    actor: &'a str,
    groups: &'a [String],
    claims: Option<&'a serde_json::Map<String, serde_json::Value>>,
) -> Claimed<'a> {
    Claimed { actor, role: None, groups, claims, ..Default::default() }
}

#[test]
fn a_policy_file_adds_roles_with_globs_and_constraints() {
    let p = Policy::from_file(settings(false), FILE).unwrap();
    assert!(p.has_role("admin"), "built-in roles stay");
    let auditor = actor("auditor");
    assert!(p.evaluate(&auditor, Capability::InventoryNodes, &CallContext::default()).allow);
    assert!(p.evaluate(&auditor, Capability::AdminOperations, &CallContext::default()).allow);
    assert!(!p.evaluate(&auditor, Capability::AccessCreate, &CallContext::default()).allow);
    assert_eq!(p.rate_limit_of("auditor"), Some(RateLimit { requests: 5, per_seconds: 60 }));
    assert_ne!(p.version(), Policy::builtin(settings(false)).version());
}

#[test]
fn tickets_are_required_and_pattern_checked_where_the_role_says_so() {
    let p = Policy::from_file(settings(false), FILE).unwrap();
    let cm = actor("change-manager");
    let ctx = |ticket| CallContext { mutating: true, reason: Some("rotate"), ticket, ..Default::default() };
    let d = p.evaluate(&cm, Capability::AccessCreate, &ctx(None));
    assert!(!d.allow && d.reason.contains("ticket"), "{}", d.reason);
    let d = p.evaluate(&cm, Capability::AccessCreate, &ctx(Some("JIRA-1")));
    assert!(!d.allow && d.reason.contains("CHG-"), "{}", d.reason);
    assert!(p.evaluate(&cm, Capability::AccessCreate, &ctx(Some("CHG-42"))).allow);
    // Read-only calls need no ticket.
    assert!(p.evaluate(&cm, Capability::AccessList, &CallContext::default()).allow);
}

#[test]
fn bindings_resolve_roles_in_order_actor_group_claim_default() {
    let p = Policy::from_file(settings(false), FILE).unwrap();
    let none: Vec<String> = vec![];
    let sre = vec!["sre".to_owned()];
    let mut claims = serde_json::Map::new();
    claims.insert("department".into(), serde_json::json!(["security", "it"]));
    assert_eq!(p.resolve_role(&who("carol", &sre, None)).as_deref(), Some("auditor"), "actor beats group");
    assert_eq!(p.resolve_role(&who("dave", &sre, None)).as_deref(), Some("operator"));
    assert_eq!(p.resolve_role(&who("erin", &none, Some(&claims))).as_deref(), Some("auditor"));
    assert_eq!(p.resolve_role(&who("frank", &none, None)).as_deref(), Some("readonly"), "default role");
    let explicit = Claimed { actor: "gina", role: Some("user"), groups: &sre, ..Default::default() };
    assert_eq!(p.resolve_role(&explicit).as_deref(), Some("user"), "the credential's own role wins");
    let bogus = Claimed { actor: "gina", role: Some("root"), groups: &none, ..Default::default() };
    assert_eq!(p.resolve_role(&bogus), None, "an unknown role claim gives no role");
    assert_eq!(Policy::builtin(settings(false)).resolve_role(&who("frank", &none, None)), None, "no default: no role");
}

#[test]
fn a_service_that_nothing_binds_is_an_operator() {
    let service = |actor| Claimed { actor, kind: ActorKind::Service, ..Default::default() };
    let builtin = Policy::builtin(settings(false));
    assert_eq!(builtin.resolve_role(&service("teleport-ai-prod")).as_deref(), Some("operator"));
    // A person with no role and no binding still has none.
    assert_eq!(builtin.resolve_role(&Claimed { actor: "frank", ..Default::default() }), None);
    // Over the policy file's default role too; but a binding on the actor wins.
    let p = Policy::from_file(settings(false), FILE).unwrap();
    assert_eq!(p.resolve_role(&service("teleport-ai-prod")).as_deref(), Some("operator"));
    assert_eq!(p.resolve_role(&service("carol")).as_deref(), Some("auditor"));
    // The credential's own role still wins.
    let named = Claimed { role: Some("readonly"), ..service("teleport-ai-dev") };
    assert_eq!(builtin.resolve_role(&named).as_deref(), Some("readonly"));
}

#[test]
fn invalid_files_name_the_line_or_the_key() {
    for (yaml, needle) in [
        ("roles:\n  x:\n    grantz: []\n", "line 3"),
        ("roles:\n  x:\n    grants: [inventory.nodez]\n", "roles.x.grants[0]"),
        ("roles:\n  x:\n    grants: ['nope.*']\n", "roles.x.grants[0]"),
        ("roles:\n  Bad Name:\n    grants: ['*']\n", "roles.Bad Name"),
        (
            "roles:\n  x:\n    grants: ['*']\n    constraints: { ticket_pattern: '[' }\n",
            "roles.x.constraints.ticket_pattern",
        ),
        (
            "roles:\n  x:\n    grants: ['*']\n    constraints: { allowed_proxy_kinds: [telnet] }\n",
            "allowed_proxy_kinds",
        ),
        ("roles:\n  x:\n    grants: ['*']\n    constraints: { ssh_logins: ['-oProxy'] }\n", "ssh_logins"),
        ("roles:\n  x:\n    grants: ['*']\n    constraints: { rate_limit: { requests: 0, per: 1m } }\n", "rate_limit"),
        ("bindings:\n  - { actor: a, group: g, role: admin }\n", "bindings[0]"),
        ("bindings:\n  - { actor: a, role: wizard }\n", "bindings[0].role"),
        ("default_role: wizard\n", "default_role"),
        ("rolez: {}\n", "rolez"),
    ] {
        let err = Policy::from_file(settings(false), yaml).unwrap_err().to_string();
        assert!(err.contains(needle), "{yaml:?} → {err}");
    }
}

#[test]
fn ssh_logins_allow_listed_names_and_star_never_matches_root() {
    let p = Policy::builtin(settings(false));
    let ctx = CallContext::default();
    let of = |role: &str| p.evaluate(&actor(role), Capability::InventoryNodes, &ctx).constraints.unwrap();
    let (admin, operator, readonly) = (of("admin"), of("operator"), of("readonly"));
    assert!(admin.allows_ssh_login(Some("root")) && admin.allows_ssh_login(None));
    assert!(operator.allows_ssh_login(Some("ubuntu")) && !operator.allows_ssh_login(Some("root")));
    assert!(!readonly.allows_ssh_login(Some("ubuntu")));
    let c = Constraints { ssh_logins: vec!["deploy".into()], ..operator };
    assert!(c.allows_ssh_login(Some("deploy")) && !c.allows_ssh_login(Some("ubuntu")) && !c.allows_ssh_login(None));
}

#[test]
fn actor_bindings_that_can_never_match_are_refused_by_key() {
    for (yaml, key, says) in [
        ("bindings: [ { actor: 'jwt:alice', role: admin } ]", "bindings[0].actor", "can never match"),
        ("bindings: [ { actor: 'oidc:', role: admin } ]", "bindings[0].actor", "names no subject"),
        ("bindings: [ { actor: anonymous, role: admin } ]", "bindings[0].actor", "reserved"),
    ] {
        let err = Policy::from_file(settings(false), yaml).unwrap_err().to_string();
        assert!(err.contains(key) && err.contains(says), "{yaml}: {err}");
    }
}

#[test]
fn a_jwt_subject_is_bound_with_its_prefix_and_a_plain_name_binds_only_a_key() {
    let yaml = "bindings: [ { actor: 'oidc:alice', role: admin }, { actor: bob, role: operator } ]";
    let p = Policy::from_file(settings(false), yaml).unwrap();
    let role = |actor: &str| p.resolve_role(&Claimed { actor, ..Default::default() });
    assert_eq!(role("oidc:alice").as_deref(), Some("admin"));
    assert_eq!(role("alice"), None, "an API key actor alice is not the JWT subject alice");
    assert_eq!(role("bob").as_deref(), Some("operator"));
    assert_eq!(role("oidc:bob"), None, "the JWT subject bob is not the API key actor bob");
    let warnings = p.binding_warnings(true, &[]);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("bindings[1].actor") && warnings[0].contains("`oidc:bob`"), "{warnings:?}");
    assert!(p.binding_warnings(true, &["bob"]).is_empty());
    let off = p.binding_warnings(false, &["bob"]);
    assert!(off.len() == 1 && off[0].contains("auth.oidc"), "{off:?}");
}

#[test]
fn the_in_flight_cap_comes_from_the_settings_and_a_role_may_override_it() {
    let yaml = "roles:\n  readonly:\n    grants: ['inventory.*']\n    constraints: { max_in_flight_calls: 3 }\n";
    let p = Policy::from_file(settings(false), yaml).unwrap();
    let cap = |role: &str| {
        let d = p.evaluate(&actor(role), Capability::InventoryNodes, &CallContext::default());
        d.constraints.and_then(|c| c.max_in_flight_calls)
    };
    assert_eq!((cap("readonly"), cap("admin"), cap("operator")), (Some(3), Some(16), Some(16)));
    let builtin = Policy::builtin(settings(false));
    let cap = |role: &str| {
        let d = builtin.evaluate(&actor(role), Capability::SelfWhoami, &CallContext::default());
        d.constraints.and_then(|c| c.max_in_flight_calls)
    };
    assert_eq!((cap("user"), cap("readonly")), (Some(4), Some(4)), "a quarter of the default for the low roles");
    let zero = "roles:\n  r:\n    grants: ['*']\n    constraints: { max_in_flight_calls: 0 }\n";
    let err = Policy::from_file(settings(false), zero).unwrap_err().to_string();
    assert!(err.contains("roles.r.constraints.max_in_flight_calls"), "{err}");
}
