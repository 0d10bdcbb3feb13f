//! The capability policy: roles, constraints and `evaluate()`, a pure function from (actor,
//! capability, context) to a recorded `Decision`. No IO here.

mod builtin;
mod decision;
mod glob;

pub use builtin::BUILTIN_ROLES;
pub use decision::{Constraints, Decision};

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::domain::{Actor, Capability};
use glob::CapabilityGlob;

/// Switches and defaults from the `policy` section of the configuration.
#[derive(Debug, Clone, Serialize)]
pub struct PolicySettings {
    pub allow_tsh_passthrough: bool,
    pub allow_tctl_passthrough: bool,
    pub default_proxy_ttl_seconds: u64,
    pub max_concurrent_proxies_per_actor: u32,
}

/// A role: the capabilities it grants (globs) and the constraints it carries.
#[derive(Debug, Clone, Serialize)]
pub struct RoleDef {
    pub grants: Vec<String>,
    pub constraints: Constraints,
}

/// What a call is about, beyond the capability.
#[derive(Debug, Clone, Default)]
pub struct CallContext<'a> {
    /// The tool changes something: a non-empty reason is required.
    pub mutating: bool,
    pub reason: Option<&'a str>,
}

/// The effective policy with its version (a hash of everything that decides).
#[derive(Debug, Clone)]
pub struct Policy {
    roles: BTreeMap<String, (RoleDef, Vec<CapabilityGlob>)>,
    settings: PolicySettings,
    version: String,
}

impl Policy {
    /// The built-in roles of DESIGN §6 with the configured switches and defaults.
    pub fn builtin(settings: PolicySettings) -> Self {
        let roles = builtin::roles(&settings);
        Self::from_roles(roles, settings)
    }

    fn from_roles(roles: BTreeMap<String, RoleDef>, settings: PolicySettings) -> Self {
        #[derive(Serialize)]
        struct Versioned<'a> {
            roles: &'a BTreeMap<String, RoleDef>,
            settings: &'a PolicySettings,
        }
        let canonical =
            serde_json::to_vec(&Versioned { roles: &roles, settings: &settings }).expect("policy serializes");
        let version = hex::encode(&Sha256::digest(&canonical)[..8]);
        let roles = roles
            .into_iter()
            .map(|(name, def)| {
                let globs = def.grants.iter().map(|g| CapabilityGlob::new(g)).collect();
                (name, (def, globs))
            })
            .collect();
        Self { roles, settings, version }
    }

    /// The version recorded with every decision.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Whether a role of this name exists.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.contains_key(role)
    }

    /// Names of the defined roles.
    pub fn role_names(&self) -> impl Iterator<Item = &str> {
        self.roles.keys().map(String::as_str)
    }

    /// Decide whether `actor` may use `capability` in `ctx`. Deny by default.
    pub fn evaluate(&self, actor: &Actor, capability: Capability, ctx: &CallContext<'_>) -> Decision {
        let deny = |reason: String| Decision::deny(reason, &self.version);
        let Some((role, globs)) = self.roles.get(&actor.role) else {
            return deny(format!("actor {:?} has role {:?}, which this policy does not define", actor.id, actor.role));
        };
        let granted = capability.is_self_service() || globs.iter().any(|g| g.matches(capability));
        if !granted {
            return deny(format!("capability '{capability}' is not granted to role '{}'", actor.role));
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
        if ctx.mutating && ctx.reason.is_none_or(|r| r.trim().is_empty()) {
            return deny(format!("capability '{capability}' changes something: a non-empty `reason` is required"));
        }
        Decision::allow(
            format!("capability '{capability}' allowed for role '{}'", actor.role),
            role.constraints.clone(),
            &self.version,
        )
    }

    /// Every capability the role grants (for `whoami` and the tool list).
    pub fn capabilities_of(&self, role: &str) -> Vec<Capability> {
        let probe = Actor {
            id: "probe".into(),
            kind: crate::domain::ActorKind::User,
            role: role.into(),
            source: crate::domain::AuthSource::ConfigApiKey,
        };
        let ctx = CallContext { mutating: false, reason: Some("probe") };
        Capability::ALL.iter().copied().filter(|c| self.evaluate(&probe, *c, &ctx).allow).collect()
    }
}

#[cfg(test)]
mod tests;
