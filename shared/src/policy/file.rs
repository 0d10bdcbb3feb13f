//! The policy file (YAML): custom roles with capability globs and constraints, bindings from
//! actors, groups and token claims to roles, and a default role. Every error names the key (and
//! the line, for syntax errors).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::builtin::ALL_PROXY_KINDS;
use super::{Constraints, RateLimit, RoleDef};
use crate::domain::Capability;

/// A policy file that cannot be used; the running policy stays in force.
#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid policy file: {0}")]
pub struct PolicyError(pub String);

impl PolicyError {
    pub(super) fn at(key: &str, problem: impl std::fmt::Display) -> Self {
        Self(format!("`{key}`: {problem}"))
    }
}

/// Binds callers to a role. Exactly one selector is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Binding {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<ClaimMatch>,
    pub role: String,
}

/// A token claim with a value: equal to a string claim, or contained in an array claim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimMatch {
    pub name: String,
    pub value: String,
}

impl ClaimMatch {
    pub(super) fn matches(&self, claims: Option<&serde_json::Map<String, serde_json::Value>>) -> bool {
        match claims.and_then(|c| c.get(&self.name)) {
            Some(serde_json::Value::String(s)) => *s == self.value,
            Some(serde_json::Value::Array(items)) => items.iter().any(|v| v.as_str() == Some(&self.value)),
            Some(serde_json::Value::Bool(b)) => b.to_string() == self.value,
            _ => false,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    #[serde(default)]
    roles: BTreeMap<String, RoleSpec>,
    #[serde(default)]
    bindings: Vec<Binding>,
    #[serde(default)]
    default_role: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleSpec {
    grants: Vec<String>,
    #[serde(default)]
    #[allow(dead_code)] // documentation for humans; not part of a decision
    description: Option<String>,
    #[serde(default)]
    constraints: ConstraintSpec,
    /// The only clusters the role may use (absent: every cluster).
    #[serde(default)]
    clusters: Option<Vec<String>>,
    #[serde(default)]
    cluster_grants: Vec<ClusterGrantSpec>,
    /// Per cluster, overrides of `constraints` (same keys).
    #[serde(default)]
    cluster_constraints: BTreeMap<String, ConstraintSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ClusterGrantSpec {
    pub grants: Vec<String>,
    pub clusters: Vec<String>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ConstraintSpec {
    max_ttl_seconds: Option<u64>,
    max_concurrent_proxies: Option<u32>,
    allowed_proxy_kinds: Option<Vec<String>>,
    own_objects_only: Option<bool>,
    ssh_logins: Option<Vec<String>>,
    require_ticket: Option<bool>,
    ticket_pattern: Option<String>,
    pub(super) rate_limit: Option<RateSpec>,
    max_in_flight_calls: Option<u32>,
    /// One rule (a mapping) or several (a list).
    require_approval: Option<serde_yaml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RateSpec {
    requests: u32,
    #[serde(with = "humantime_serde")]
    per: Duration,
}

/// What a file contributes.
pub(super) struct Parsed {
    pub roles: BTreeMap<String, RoleDef>,
    pub bindings: Vec<Binding>,
    pub default_role: Option<String>,
}

/// Parse and validate a policy file against the built-in roles it may extend or override.
pub(super) fn parse(yaml: &str, builtin: &BTreeMap<String, RoleDef>) -> Result<Parsed, PolicyError> {
    // serde_yaml reports the line, column and the path of the offending key.
    let doc: FileDoc = serde_yaml::from_str(yaml).map_err(|e| PolicyError(e.to_string()))?;
    let mut roles = BTreeMap::new();
    for (name, spec) in doc.roles {
        let key = format!("roles.{name}");
        if name.is_empty()
            || name.len() > 64
            || !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        {
            return Err(PolicyError::at(&key, "role names are 1-64 characters of a-z, 0-9, _ and -"));
        }
        for (i, grant) in spec.grants.iter().enumerate() {
            check_grant(grant).map_err(|p| PolicyError::at(&format!("{key}.grants[{i}]"), p))?;
        }
        // A custom role starts from operator-like limits; overriding a built-in starts from it.
        let base = builtin.get(&name).or_else(|| builtin.get("operator")).map(|r| r.constraints.clone());
        let constraints =
            constraints(spec.constraints, base.expect("built-in roles exist"), &format!("{key}.constraints"))?;
        let on = super::file_clusters::parse(
            &key,
            spec.clusters,
            spec.cluster_grants,
            spec.cluster_constraints,
            &constraints,
        )?;
        roles.insert(
            name,
            RoleDef {
                grants: spec.grants,
                constraints,
                clusters: on.clusters,
                cluster_grants: on.grants,
                cluster_constraints: on.constraints,
            },
        );
    }
    let exists = |role: &str| roles.contains_key(role) || builtin.contains_key(role);
    let every_constraints = roles.iter().flat_map(|(name, def)| {
        let own = std::iter::once((format!("roles.{name}.constraints"), &def.constraints));
        own.chain(
            def.cluster_constraints.iter().map(move |(c, v)| (format!("roles.{name}.cluster_constraints.{c}"), v)),
        )
    });
    for (at, constraints) in every_constraints {
        for (i, rule) in constraints.require_approval.iter().enumerate() {
            let key = format!("{at}.require_approval[{i}].approvers.roles");
            for approver in &rule.approvers.roles {
                let grants = roles.get(approver).or_else(|| builtin.get(approver)).map(|r| &r.grants);
                let Some(grants) = grants else {
                    return Err(PolicyError::at(&key, format!("unknown role {approver:?}")));
                };
                if !grants.iter().any(|g| super::glob::CapabilityGlob::new(g).matches(Capability::ApprovalReview)) {
                    return Err(PolicyError::at(
                        &key,
                        format!("role {approver:?} does not grant `approval.review`, so it could never approve"),
                    ));
                }
            }
        }
    }
    for (i, b) in doc.bindings.iter().enumerate() {
        let key = format!("bindings[{i}]");
        let selectors = [b.actor.is_some(), b.group.is_some(), b.claim.is_some()].iter().filter(|s| **s).count();
        if selectors != 1 {
            return Err(PolicyError::at(&key, "set exactly one of `actor`, `group` or `claim`"));
        }
        if !exists(&b.role) {
            return Err(PolicyError::at(&format!("{key}.role"), format!("unknown role {:?}", b.role)));
        }
        if let Some(actor) = &b.actor {
            check_bound_actor(actor).map_err(|p| PolicyError::at(&format!("{key}.actor"), p))?;
        }
    }
    if let Some(role) = &doc.default_role
        && !exists(role)
    {
        return Err(PolicyError::at("default_role", format!("unknown role {role:?}")));
    }
    Ok(Parsed { roles, bindings: doc.bindings, default_role: doc.default_role })
}

/// An actor binding names either an API key's actor (a plain name) or a JWT subject
/// (`oidc:<subject>`); anything else would match nobody, and saying so beats a silent 403.
pub(super) fn check_bound_actor(actor: &str) -> Result<(), String> {
    use crate::domain::{JWT_ACTOR_PREFIX, NAMESPACE_SEPARATOR, api_key_actor_problem};
    match actor.strip_prefix(JWT_ACTOR_PREFIX) {
        Some("") => Err(format!(
            "{actor:?} names no subject; write `{JWT_ACTOR_PREFIX}<subject>`, e.g. `{JWT_ACTOR_PREFIX}alice`"
        )),
        Some(_) => Ok(()),
        None if actor.contains(NAMESPACE_SEPARATOR) => Err(format!(
            "{actor:?} can never match: the only actor namespace is `{JWT_ACTOR_PREFIX}` (JWT subjects, e.g. \
             `{JWT_ACTOR_PREFIX}alice`); an API key's actor is a plain name without {NAMESPACE_SEPARATOR:?}"
        )),
        None => api_key_actor_problem(actor).map_or(Ok(()), Err),
    }
}

pub(super) fn check_grant(grant: &str) -> Result<(), String> {
    let known = |prefix: &str| Capability::ALL.iter().any(|c| c.as_str().starts_with(prefix));
    match grant {
        "*" => Ok(()),
        g if g.ends_with(".*") && known(&g[..g.len() - 1]) => Ok(()),
        g if g.parse::<Capability>().is_ok() => Ok(()),
        g => {
            let families: Vec<&str> = {
                let mut f: Vec<&str> =
                    Capability::ALL.iter().map(|c| c.as_str().split('.').next().unwrap_or("")).collect();
                f.dedup();
                f
            };
            Err(format!(
                "{g:?} names no capability; use `*`, `<family>.*` ({}) or a name such as `inventory.nodes`",
                families.join(", ")
            ))
        }
    }
}

/// `base` with the keys `spec` sets; `key`: where `spec` is (e.g. `roles.ops.constraints`).
pub(super) fn constraints(spec: ConstraintSpec, base: Constraints, key: &str) -> Result<Constraints, PolicyError> {
    let at = |field: &str| format!("{key}.{field}");
    let mut c = base;
    if let Some(v) = spec.max_ttl_seconds {
        if v == 0 || v > 7 * 24 * 3600 {
            return Err(PolicyError::at(&at("max_ttl_seconds"), "must be between 1 and 604800 (a week)"));
        }
        c.max_ttl_seconds = v;
    }
    if let Some(v) = spec.max_concurrent_proxies {
        c.max_concurrent_proxies = v;
    }
    if let Some(kinds) = spec.allowed_proxy_kinds {
        if let Some(bad) = kinds.iter().find(|k| !ALL_PROXY_KINDS.contains(&k.as_str())) {
            return Err(PolicyError::at(
                &at("allowed_proxy_kinds"),
                format!("unknown kind {bad:?}; kinds are {}", ALL_PROXY_KINDS.join(", ")),
            ));
        }
        c.allowed_proxy_kinds = kinds;
    }
    if let Some(v) = spec.own_objects_only {
        c.own_objects_only = v;
    }
    if let Some(logins) = spec.ssh_logins {
        if let Some(bad) = logins.iter().find(|l| *l != "*" && crate::domain::check_ssh_login(l).is_err()) {
            return Err(PolicyError::at(
                &at("ssh_logins"),
                format!("{bad:?} is not a login name (letters, digits, _ . -), nor `*`"),
            ));
        }
        c.ssh_logins = logins;
    }
    if let Some(v) = spec.require_ticket {
        c.require_ticket = v;
    }
    if let Some(p) = spec.ticket_pattern {
        regex::Regex::new(&p).map_err(|e| PolicyError::at(&at("ticket_pattern"), e))?;
        c.ticket_pattern = Some(p);
    }
    if let Some(n) = spec.max_in_flight_calls {
        if n == 0 {
            return Err(PolicyError::at(
                &at("max_in_flight_calls"),
                "must be at least 1 (to refuse every call, grant the role nothing)",
            ));
        }
        c.max_in_flight_calls = Some(n);
    }
    if let Some(r) = spec.rate_limit {
        if r.requests == 0 || r.per.as_secs() == 0 {
            return Err(PolicyError::at(&at("rate_limit"), "requests and per must be at least 1 and 1s"));
        }
        c.rate_limit = Some(RateLimit { requests: r.requests, per_seconds: r.per.as_secs() });
    }
    if let Some(rules) = spec.require_approval {
        c.require_approval = super::approval_spec::parse(rules, &at("require_approval"))?;
    }
    Ok(c)
}
