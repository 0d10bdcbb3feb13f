//! The built-in role matrix of DESIGN §6, capability by capability.

use super::*;
use crate::domain::{ActorKind, AuthSource};

fn settings(passthrough: bool) -> PolicySettings {
    PolicySettings {
        allow_tsh_passthrough: passthrough,
        allow_tctl_passthrough: passthrough,
        default_proxy_ttl_seconds: 3600,
        max_concurrent_proxies_per_actor: 10,
    }
}

fn actor(role: &str) -> Actor {
    Actor { id: format!("{role}-1"), kind: ActorKind::User, role: role.into(), source: AuthSource::ConfigApiKey }
}

/// What DESIGN §6 grants each built-in role, written out by hand (not derived from the code).
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
        "user" => matches!(cap, AccessList | AccessShow | AccessCreate | AccessDrop) || family == "proxy",
        "readonly" => matches!(family, "inventory" | "health" | "audit") || cap == SecurityRbacScan,
        _ => false,
    }
}

#[test]
fn builtin_roles_match_the_design_matrix() {
    let policy = Policy::builtin(settings(false));
    let ctx = CallContext { mutating: false, reason: None };
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
    let ctx = CallContext { mutating: true, reason: Some("INC-1 debugging") };
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
        let d = policy.evaluate(&actor("operator"), Capability::AccessCreate, &CallContext { mutating: true, reason });
        assert!(!d.allow);
        assert!(d.reason.contains("reason"), "{}", d.reason);
    }
    let ok = CallContext { mutating: true, reason: Some("INC-42") };
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
