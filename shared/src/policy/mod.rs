//! The capability policy: roles, bindings, constraints and `evaluate()`, a pure function from
//! (actor, capability, context) to a recorded `Decision`. No IO here: the policy file's text is
//! parsed by `file`, reading it is the caller's job.

mod approval_spec;
mod builtin;
mod clusters;
mod decision;
mod file;
mod file_clusters;
mod glob;

pub use builtin::BUILTIN_ROLES;
pub use decision::{ApprovalRule, Approvers, Constraints, Decision, RateLimit};
pub use file::{Binding, PolicyError};

use std::collections::{BTreeMap, BTreeSet};

use regex::Regex;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::domain::{Actor, ActorKind, AuthSource, Capability};
use glob::CapabilityGlob;

/// Switches and defaults from the `policy` section of the configuration.
#[derive(Debug, Clone, Serialize)]
pub struct PolicySettings {
    pub allow_tsh_passthrough: bool,
    pub allow_tctl_passthrough: bool,
    pub default_proxy_ttl_seconds: u64,
    pub max_concurrent_proxies_per_actor: u32,
    /// Worker calls an actor of a built-in role may have queued or running (None: unlimited).
    pub max_in_flight_calls_per_actor: Option<u32>,
    /// Rate of the built-in roles (None: unlimited).
    pub rate_limit: Option<RateLimit>,
}

/// A role: the capabilities it grants (globs) and the constraints it carries, everywhere or
/// per cluster. The cluster fields are left out of the version when unused, so a policy that does
/// not use them keeps the version it had before they existed.
#[derive(Debug, Clone, Serialize)]
pub struct RoleDef {
    /// Granted on every cluster the role may use.
    pub grants: Vec<String>,
    pub constraints: Constraints,
    /// The only clusters the role may use (empty: every cluster).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub clusters: Vec<String>,
    /// Grants that hold only on some clusters.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cluster_grants: Vec<ClusterGrant>,
    /// The constraints on a cluster: the role's, with that cluster's overrides applied.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub cluster_constraints: BTreeMap<String, Constraints>,
}

/// Capabilities (globs) granted to a role only on the clusters listed (never empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterGrant {
    pub grants: Vec<String>,
    pub clusters: Vec<String>,
}

/// A role ready to evaluate.
#[derive(Debug, Clone)]
struct CompiledRole {
    def: RoleDef,
    globs: Vec<CapabilityGlob>,
    ticket: Option<Regex>,
    /// The globs of each `def.cluster_grants` entry, in the same order.
    cluster_globs: Vec<Vec<CapabilityGlob>>,
    /// The ticket pattern of each `def.cluster_constraints` entry.
    cluster_tickets: BTreeMap<String, Option<Regex>>,
}

/// What a call is about, beyond the capability.
#[derive(Debug, Clone, Default)]
pub struct CallContext<'a> {
    /// The tool changes something: a non-empty reason is required.
    pub mutating: bool,
    pub reason: Option<&'a str>,
    pub ticket: Option<&'a str>,
    /// The Teleport cluster the call touches (None: none, e.g. a tool the gateway answers itself).
    pub cluster: Option<&'a str>,
}

/// The role of a service identity (e.g. `teleport-ai-prod`) that no binding names: services
/// default to `operator`, as the product has always documented. A binding on the actor overrides it.
pub const SERVICE_DEFAULT_ROLE: &str = "operator";

/// Who a verified credential says the caller is, for role resolution.
#[derive(Debug, Clone, Default)]
pub struct Claimed<'a> {
    pub actor: &'a str,
    /// A person or a service identity: a service that nothing binds gets [`SERVICE_DEFAULT_ROLE`].
    pub kind: ActorKind,
    /// Role named by the credential itself (an API key's role, a token's role claim).
    pub role: Option<&'a str>,
    pub groups: &'a [String],
    pub claims: Option<&'a serde_json::Map<String, serde_json::Value>>,
}

/// The effective policy with its version (a hash of everything that decides).
#[derive(Debug, Clone)]
pub struct Policy {
    roles: BTreeMap<String, CompiledRole>,
    bindings: Vec<Binding>,
    default_role: Option<String>,
    settings: PolicySettings,
    version: String,
}

impl Policy {
    /// The built-in roles (README, "Built-in roles") with the configured switches and defaults.
    pub fn builtin(settings: PolicySettings) -> Self {
        let roles = builtin::roles(&settings);
        Self::assemble(roles, Vec::new(), None, settings).expect("built-in roles are valid")
    }

    /// The built-in roles plus (and overridden by) the roles of a policy file, with its bindings.
    /// Errors name the line and the key.
    pub fn from_file(settings: PolicySettings, yaml: &str) -> Result<Self, PolicyError> {
        let mut roles = builtin::roles(&settings);
        let parsed = file::parse(yaml, &roles)?;
        roles.extend(parsed.roles);
        Self::assemble(roles, parsed.bindings, parsed.default_role, settings)
    }

    fn assemble(
        roles: BTreeMap<String, RoleDef>,
        bindings: Vec<Binding>,
        default_role: Option<String>,
        settings: PolicySettings,
    ) -> Result<Self, PolicyError> {
        #[derive(Serialize)]
        struct Versioned<'a> {
            roles: &'a BTreeMap<String, RoleDef>,
            bindings: &'a [Binding],
            default_role: &'a Option<String>,
            settings: &'a PolicySettings,
        }
        let canonical = serde_json::to_vec(&Versioned {
            roles: &roles,
            bindings: &bindings,
            default_role: &default_role,
            settings: &settings,
        })
        .expect("policy serializes");
        let version = hex::encode(&Sha256::digest(&canonical)[..8]);
        let mut compiled = BTreeMap::new();
        let globs = |grants: &[String]| grants.iter().map(|g| CapabilityGlob::new(g)).collect::<Vec<_>>();
        for (name, def) in roles {
            let ticket = ticket_regex(&def.constraints, &format!("roles.{name}.constraints"))?;
            let mut cluster_tickets = BTreeMap::new();
            for (cluster, c) in &def.cluster_constraints {
                let regex = ticket_regex(c, &format!("roles.{name}.cluster_constraints.{cluster}"))?;
                cluster_tickets.insert(cluster.clone(), regex);
            }
            let cluster_globs = def.cluster_grants.iter().map(|g| globs(&g.grants)).collect();
            let globs = globs(&def.grants);
            compiled.insert(name, CompiledRole { def, globs, ticket, cluster_globs, cluster_tickets });
        }
        Ok(Self { roles: compiled, bindings, default_role, settings, version })
    }

    /// The version recorded with every decision.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Whether a role of this name exists.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.contains_key(role)
    }

    /// A role's grants and constraints, as defined.
    pub fn role(&self, name: &str) -> Option<&RoleDef> {
        self.roles.get(name).map(|r| &r.def)
    }

    /// The bindings of the policy file, in the order they are tried.
    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }

    /// The role of a caller nothing else gives one, if the policy names one.
    pub fn default_role(&self) -> Option<&str> {
        self.default_role.as_deref()
    }

    /// Names of the defined roles.
    pub fn role_names(&self) -> impl Iterator<Item = &str> {
        self.roles.keys().map(String::as_str)
    }

    /// The role of a caller: the credential's own role if it names one, else the first binding
    /// that matches (actor, then group, then claim), else for a service identity
    /// [`SERVICE_DEFAULT_ROLE`], else the default role. None: no role (403).
    pub fn resolve_role(&self, who: &Claimed<'_>) -> Option<String> {
        if let Some(role) = who.role {
            return self.has_role(role).then(|| role.to_owned());
        }
        let by = |pred: &dyn Fn(&Binding) -> bool| self.bindings.iter().find(|b| pred(b)).map(|b| b.role.clone());
        by(&|b| b.actor.as_deref() == Some(who.actor))
            .or_else(|| by(&|b| b.group.as_ref().is_some_and(|g| who.groups.contains(g))))
            .or_else(|| by(&|b| b.claim.as_ref().is_some_and(|c| c.matches(who.claims))))
            .or_else(|| {
                (who.kind == ActorKind::Service && self.has_role(SERVICE_DEFAULT_ROLE))
                    .then(|| SERVICE_DEFAULT_ROLE.to_owned())
            })
            .or_else(|| self.default_role.clone())
    }

    /// Actor bindings that cannot do what they probably mean, for a warning at start and reload:
    /// a JWT subject (`oidc:…`) bound while OIDC is off, or (with OIDC on) a plain name no
    /// configured API key holds — since JWT actors are namespaced, it no longer binds a subject.
    pub fn binding_warnings(&self, oidc: bool, key_actors: &[&str]) -> Vec<String> {
        use crate::domain::JWT_ACTOR_PREFIX;
        let mut warnings = Vec::new();
        for (i, actor) in self.bindings.iter().enumerate().filter_map(|(i, b)| Some((i, b.actor.as_deref()?))) {
            if actor.starts_with(JWT_ACTOR_PREFIX) && !oidc {
                warnings.push(format!(
                    "bindings[{i}].actor {actor:?} names a JWT subject, but `auth.oidc` is not configured: it matches nobody"
                ));
            } else if !actor.starts_with(JWT_ACTOR_PREFIX) && oidc && !key_actors.contains(&actor) {
                warnings.push(format!(
                    "bindings[{i}].actor {actor:?} matches only an API key's actor (no configured key has it; a \
                     database key may); to bind the JWT subject {actor:?}, write `{JWT_ACTOR_PREFIX}{actor}`"
                ));
            }
        }
        warnings
    }

    /// Decide whether `actor` may use `capability` in `ctx`. Deny by default.
    pub fn evaluate(&self, actor: &Actor, capability: Capability, ctx: &CallContext<'_>) -> Decision {
        let deny = |reason: String| Decision::deny(reason, &self.version);
        let Some(role) = self.roles.get(&actor.role) else {
            return deny(format!("actor {:?} has role {:?}, which this policy does not define", actor.id, actor.role));
        };
        if let Some(refusal) = role.cluster_refusal(&actor.role, ctx.cluster) {
            return deny(refusal);
        }
        let granted = capability.is_self_service() || role.globs.iter().any(|g| g.matches(capability));
        if !granted && let Err(refusal) = role.cluster_grant(&actor.role, capability, ctx.cluster) {
            return deny(refusal);
        }
        if capability.is_passthrough() {
            let (enabled, key) = match capability {
                Capability::PassthroughTsh => (self.settings.allow_tsh_passthrough, "policy.allow_tsh_passthrough"),
                _ => (self.settings.allow_tctl_passthrough, "policy.allow_tctl_passthrough"),
            };
            if !enabled {
                return deny(format!("passthrough is disabled; an operator can enable it with `{key}: true`"));
            }
            if actor.role != "admin" {
                return deny(format!("capability '{capability}' is admin-only"));
            }
        }
        let (constraints, ticket_pattern, own) = role.effective(ctx.cluster);
        let on = || own.map(|c| format!(" on cluster '{c}'")).unwrap_or_default();
        if ctx.mutating {
            if ctx.reason.is_none_or(|r| r.trim().is_empty()) {
                return deny(format!("capability '{capability}' changes something: a non-empty `reason` is required"));
            }
            if constraints.require_ticket && ctx.ticket.is_none_or(|t| t.trim().is_empty()) {
                return deny(format!("role '{}' must give a `ticket` for changes{}", actor.role, on()));
            }
        }
        if let (Some(ticket), Some(pattern)) = (ctx.ticket, ticket_pattern)
            && !pattern.is_match(ticket)
        {
            return deny(format!(
                "ticket {ticket:?} does not match the pattern {:?} of role '{}'{}",
                pattern.as_str(),
                actor.role,
                on()
            ));
        }
        let reason = match ctx.cluster {
            Some(c) => format!("capability '{capability}' allowed for role '{}' on cluster '{c}'", actor.role),
            None => format!("capability '{capability}' allowed for role '{}'", actor.role),
        };
        Decision::allow(reason, constraints.clone(), &self.version)
    }

    /// The rate limit of a role (None: unlimited, or no such role).
    pub fn rate_limit_of(&self, role: &str) -> Option<RateLimit> {
        self.roles.get(role).and_then(|r| r.def.constraints.rate_limit)
    }

    /// Every capability the role grants (for `whoami` and the tool list).
    pub fn capabilities_of(&self, role: &str) -> Vec<Capability> {
        let probe = Actor {
            id: "probe".into(),
            kind: ActorKind::User,
            role: role.into(),
            source: AuthSource::ConfigApiKey,
            groups: vec![],
        };
        // No cluster: a capability granted on some cluster only counts as granted.
        let ctx = CallContext { reason: Some("probe"), ..Default::default() };
        Capability::ALL.iter().copied().filter(|c| self.evaluate(&probe, *c, &ctx).allow).collect()
    }

    /// The only clusters a role may use; None: every cluster (no limit, or no such role).
    pub fn clusters_of(&self, role: &str) -> Option<&[String]> {
        self.roles.get(role).map(|r| r.def.clusters.as_slice()).filter(|c| !c.is_empty())
    }

    /// Every cluster the policy names (role limits, cluster grants, cluster constraints), so that
    /// names no configuration defines can be warned about.
    pub fn cluster_names_used(&self) -> BTreeSet<String> {
        let mut names = BTreeSet::new();
        for role in self.roles.values() {
            let def = &role.def;
            names.extend(def.clusters.iter().cloned());
            names.extend(def.cluster_grants.iter().flat_map(|g| g.clusters.iter().cloned()));
            names.extend(def.cluster_constraints.keys().cloned());
        }
        names
    }
}

/// The compiled ticket pattern of `constraints` (`key`: where they are defined, for the error).
fn ticket_regex(constraints: &Constraints, key: &str) -> Result<Option<Regex>, PolicyError> {
    let Some(p) = &constraints.ticket_pattern else { return Ok(None) };
    Regex::new(p).map(Some).map_err(|e| PolicyError::at(&format!("{key}.ticket_pattern"), e))
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod approval_tests;

#[cfg(test)]
mod cluster_tests;
