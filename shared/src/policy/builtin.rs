//! The built-in roles (README, "Built-in roles"): admin, operator, user, readonly.

use std::collections::BTreeMap;

use super::{Constraints, PolicySettings, RoleDef};

/// Names of the built-in roles.
pub const BUILTIN_ROLES: &[&str] = &["admin", "operator", "user", "readonly"];

pub(super) const ALL_PROXY_KINDS: &[&str] = &["proxy_ssh", "proxy_db", "proxy_app", "proxy_kube", "proxy_mcp", "vnet"];

pub(super) fn roles(s: &PolicySettings) -> BTreeMap<String, RoleDef> {
    let kinds = |k: &[&str]| k.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let wide = Constraints {
        max_ttl_seconds: s.default_proxy_ttl_seconds,
        max_concurrent_proxies: s.max_concurrent_proxies_per_actor,
        allowed_proxy_kinds: kinds(ALL_PROXY_KINDS),
        own_objects_only: false,
        // Any login but root; admin adds root by name below.
        ssh_logins: vec!["*".to_owned()],
        require_ticket: false,
        ticket_pattern: None,
        rate_limit: s.rate_limit,
        max_in_flight_calls: s.max_in_flight_calls_per_actor,
        require_approval: vec![],
    };
    // The low-privilege roles may hold a quarter of the calls in flight (at least one): with the
    // default 16 that is 4, fewer than one worker's 8 slots, so a flood from a `readonly` or `user`
    // key leaves slots for everyone else even on a single worker.
    let few_in_flight = s.max_in_flight_calls_per_actor.map(|n| (n / 4).max(1));
    // Users get tighter caps: a quarter of the concurrency (at least one) and at most half the TTL
    // (at least ten minutes), and no machine-wide VNet.
    let user = Constraints {
        max_ttl_seconds: (s.default_proxy_ttl_seconds / 2).max(600).min(s.default_proxy_ttl_seconds),
        max_concurrent_proxies: (s.max_concurrent_proxies_per_actor / 4).max(1),
        allowed_proxy_kinds: kinds(&ALL_PROXY_KINDS[..5]),
        own_objects_only: true,
        max_in_flight_calls: few_in_flight,
        ..wide.clone()
    };
    // Built-in roles hold on every cluster alike.
    let role = |grants: &[&str], constraints: &Constraints| RoleDef {
        grants: grants.iter().map(|g| g.to_string()).collect(),
        constraints: constraints.clone(),
        clusters: vec![],
        cluster_grants: vec![],
        cluster_constraints: BTreeMap::new(),
    };
    BTreeMap::from([
        (
            "admin".to_owned(),
            role(&["*"], &Constraints { ssh_logins: vec!["*".to_owned(), "root".to_owned()], ..wide.clone() }),
        ),
        (
            "operator".to_owned(),
            role(&["inventory.*", "security.*", "health.*", "audit.*", "access.*", "proxy.*"], &wide),
        ),
        (
            "user".to_owned(),
            // Users start proxies, so they may discover what there is to proxy to.
            role(
                &[
                    "access.list",
                    "access.show",
                    "access.create",
                    "access.drop",
                    "proxy.*",
                    "inventory.databases",
                    "inventory.apps",
                    "inventory.kube_clusters",
                    "inventory.mcp_servers",
                    "inventory.windows_desktops",
                ],
                &user,
            ),
        ),
        (
            "readonly".to_owned(),
            role(
                &["inventory.*", "security.rbac_scan", "health.*", "audit.*"],
                &Constraints {
                    max_concurrent_proxies: 0,
                    allowed_proxy_kinds: vec![],
                    own_objects_only: true,
                    ssh_logins: vec![],
                    max_in_flight_calls: few_in_flight,
                    ..wide.clone()
                },
            ),
        ),
    ])
}
