//! Roles limited to some clusters, grants that hold only on some, and per-cluster constraints.

use super::tests::actor;
use super::*;

fn settings() -> PolicySettings {
    PolicySettings {
        allow_tsh_passthrough: false,
        allow_tctl_passthrough: false,
        default_proxy_ttl_seconds: 3600,
        max_concurrent_proxies_per_actor: 10,
        max_in_flight_calls_per_actor: Some(16),
        rate_limit: None,
    }
}

const FILE: &str = r#"
roles:
  ops:
    grants: ["inventory.*", "audit.*"]
    cluster_grants:
      - grants: ["proxy.*"]
        clusters: [staging]
    cluster_constraints:
      prod: { require_ticket: true, max_ttl_seconds: 900 }
  stager:
    grants: ["inventory.*", "access.*"]
    clusters: [staging, dev]
bindings:
  - { actor: carol, role: ops }
"#;

fn on(cluster: Option<&str>) -> CallContext<'_> {
    CallContext { mutating: true, reason: Some("INC-7"), cluster, ..Default::default() }
}

#[test]
fn a_cluster_grant_holds_on_its_clusters_only() {
    let p = Policy::from_file(settings(), FILE).unwrap();
    let ops = actor("ops");
    let d = p.evaluate(&ops, Capability::ProxyStart, &on(Some("staging")));
    assert!(d.allow, "{}", d.reason);
    assert_eq!(d.reason, "capability 'proxy.start' allowed for role 'ops' on cluster 'staging'");

    let d = p.evaluate(&ops, Capability::ProxyStart, &on(Some("prod")));
    assert!(!d.allow);
    assert_eq!(
        d.reason,
        "capability 'proxy.start' is granted to role 'ops' only on clusters staging (roles.ops.cluster_grants[0]); \
         this call is for cluster 'prod'"
    );
    // A call that touches no cluster: the grant counts.
    assert!(p.evaluate(&ops, Capability::ProxyStart, &on(None)).allow);
    // Plain grants hold on every cluster; what nothing grants is refused as before.
    let read = CallContext { cluster: Some("prod"), ..Default::default() };
    assert!(p.evaluate(&ops, Capability::InventoryNodes, &read).allow);
    let d = p.evaluate(&ops, Capability::AccessCreate, &on(Some("staging")));
    assert_eq!(d.reason, "capability 'access.create' is not granted to role 'ops'");
    assert!(p.capabilities_of("ops").contains(&Capability::ProxyStart), "whoami lists it");
}

#[test]
fn a_role_limited_to_some_clusters_is_refused_the_others() {
    let p = Policy::from_file(settings(), FILE).unwrap();
    let stager = actor("stager");
    let d = p.evaluate(&stager, Capability::InventoryNodes, &on(Some("prod")));
    assert!(!d.allow);
    assert_eq!(
        d.reason,
        "role 'stager' may use only clusters staging, dev (roles.stager.clusters); this call is for cluster 'prod'"
    );
    assert!(p.evaluate(&stager, Capability::InventoryNodes, &on(Some("dev"))).allow);
    assert!(p.evaluate(&stager, Capability::SelfWhoami, &on(None)).allow, "no cluster, no limit");
    assert_eq!(p.clusters_of("stager"), Some(&["staging".to_owned(), "dev".to_owned()][..]));
    assert_eq!(p.clusters_of("ops"), None);
    assert_eq!(p.clusters_of("admin"), None, "built-in roles use every cluster");
    let used: Vec<String> = p.cluster_names_used().into_iter().collect();
    assert_eq!(used, ["dev", "prod", "staging"]);
}

#[test]
fn cluster_constraints_apply_on_their_cluster_only() {
    let p = Policy::from_file(settings(), FILE).unwrap();
    let ops = actor("ops");
    let d = p.evaluate(&ops, Capability::InventoryNodes, &on(Some("prod")));
    assert!(!d.allow);
    assert_eq!(d.reason, "role 'ops' must give a `ticket` for changes on cluster 'prod'");
    let ticketed = CallContext { ticket: Some("CHG-1"), ..on(Some("prod")) };
    let d = p.evaluate(&ops, Capability::InventoryNodes, &ticketed);
    assert!(d.allow, "{}", d.reason);
    let c = d.constraints.unwrap();
    assert!(c.require_ticket);
    assert_eq!(c.max_ttl_seconds, 900);
    assert!(!c.allowed_proxy_kinds.is_empty(), "the rest comes from the role");
    for cluster in [Some("staging"), None] {
        let d = p.evaluate(&ops, Capability::InventoryNodes, &on(cluster));
        assert!(d.allow, "{cluster:?}: {}", d.reason);
        assert_eq!(d.constraints.unwrap().max_ttl_seconds, 3600, "{cluster:?}");
    }
}

#[test]
fn a_ticket_pattern_set_for_one_cluster_is_checked_there() {
    let yaml = "roles:\n  ops:\n    grants: ['access.*']\n    cluster_constraints:\n      prod: { ticket_pattern: '^CHG-[0-9]+$' }\n";
    let p = Policy::from_file(settings(), yaml).unwrap();
    let ctx = |cluster| CallContext { ticket: Some("JIRA-1"), ..on(cluster) };
    let d = p.evaluate(&actor("ops"), Capability::AccessCreate, &ctx(Some("prod")));
    assert!(!d.allow && d.reason.contains("CHG-") && d.reason.ends_with("on cluster 'prod'"), "{}", d.reason);
    assert!(p.evaluate(&actor("ops"), Capability::AccessCreate, &ctx(Some("dev"))).allow);
}

#[test]
fn invalid_cluster_keys_are_refused_by_key() {
    let role = |rest: &str| format!("roles:\n  ops:\n    grants: ['inventory.*']\n{rest}");
    for (yaml, key) in [
        (role("    clusters: [Prod]\n"), "roles.ops.clusters[0]"),
        (role("    clusters: []\n"), "roles.ops.clusters"),
        (
            role("    cluster_grants: [ { grants: ['proxy.*'], clusters: [] } ]\n"),
            "roles.ops.cluster_grants[0].clusters",
        ),
        (
            role("    cluster_grants: [ { grants: ['proxy.*'], clusters: ['-x'] } ]\n"),
            "roles.ops.cluster_grants[0].clusters[0]",
        ),
        (
            role("    cluster_grants: [ { grants: ['proxy.*', 'nope.*'], clusters: [dev] } ]\n"),
            "roles.ops.cluster_grants[0].grants[1]",
        ),
        (
            role("    cluster_constraints:\n      prod: { max_ttl_seconds: 0 }\n"),
            "roles.ops.cluster_constraints.prod.max_ttl_seconds",
        ),
        (
            role("    cluster_constraints:\n      prod: { ticket_pattern: '[' }\n"),
            "roles.ops.cluster_constraints.prod.ticket_pattern",
        ),
        (
            role("    cluster_constraints:\n      'PROD!': { require_ticket: true }\n"),
            "roles.ops.cluster_constraints.PROD!",
        ),
        (
            role("    clusters: [dev]\n    cluster_constraints:\n      prod: { require_ticket: true }\n"),
            "roles.ops.cluster_constraints.prod",
        ),
        (
            role("    clusters: [dev]\n    cluster_grants: [ { grants: ['proxy.*'], clusters: [prod] } ]\n"),
            "roles.ops.cluster_grants[0].clusters[0]",
        ),
    ] {
        let err = Policy::from_file(settings(), &yaml).unwrap_err().to_string();
        assert!(err.contains(&format!("`{key}`")), "{yaml:?} → {err}");
    }
}

#[test]
fn the_version_changes_only_when_a_cluster_key_is_used() {
    let plain = "roles:\n  ops:\n    grants: ['inventory.*']\n    constraints: { max_ttl_seconds: 900 }\n";
    let v = Policy::from_file(settings(), plain).unwrap().version().to_owned();
    // The version of this file before the cluster keys existed (computed at the commit before them).
    assert_eq!(v, PLAIN_VERSION_BEFORE_CLUSTER_KEYS);
    assert_eq!(Policy::builtin(settings()).version(), BUILTIN_VERSION_BEFORE_CLUSTER_KEYS);
    for extra in [
        "    clusters: [dev]\n",
        "    cluster_grants: [ { grants: ['proxy.*'], clusters: [dev] } ]\n",
        "    cluster_constraints: { dev: { require_ticket: true } }\n",
    ] {
        let with = Policy::from_file(settings(), &format!("{plain}{extra}")).unwrap();
        assert_ne!(with.version(), v, "{extra}");
    }
}

/// Versions computed at the commit before the cluster keys (a509dd3), with `settings()` above.
const PLAIN_VERSION_BEFORE_CLUSTER_KEYS: &str = "67666c6051ecb753";
const BUILTIN_VERSION_BEFORE_CLUSTER_KEYS: &str = "977c5e17784e79f8";
