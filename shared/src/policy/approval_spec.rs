//! `require_approval` in a role's constraints: one rule or a list, each checked so that a rule that
//! could never be satisfied, or that names nothing the workers run, is an error at load, not a call
//! that waits forever.

use std::time::Duration;

use serde::Deserialize;

use super::builtin::ALL_PROXY_KINDS;
use super::glob::CapabilityGlob;
use super::{ApprovalRule, Approvers, PolicyError};
use crate::domain::{CATALOG, Capability, Execution};

/// Most approvals a rule may ask for.
pub const MAX_APPROVALS: u32 = 10;
const MIN_EXPIRY: Duration = Duration::from_secs(60);
const MAX_EXPIRY: Duration = Duration::from_secs(7 * 24 * 3600);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    capabilities: Vec<String>,
    #[serde(default)]
    kinds: Vec<String>,
    approvers: ApproversSpec,
    #[serde(default = "one")]
    approvals: u32,
    #[serde(default = "fifteen_minutes", with = "humantime_serde")]
    expires_after: Duration,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApproversSpec {
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    actors: Vec<String>,
    #[serde(default)]
    groups: Vec<String>,
}

fn one() -> u32 {
    1
}

fn fifteen_minutes() -> Duration {
    Duration::from_secs(15 * 60)
}

/// Parse `value` (a mapping or a list of mappings) found at `key`.
pub(super) fn parse(value: serde_yaml::Value, key: &str) -> Result<Vec<ApprovalRule>, PolicyError> {
    let items = match value {
        serde_yaml::Value::Sequence(items) => items,
        one => vec![one],
    };
    let mut rules = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let key = format!("{key}[{i}]");
        let spec: RuleSpec = serde_yaml::from_value(item).map_err(|e| PolicyError::at(&key, e))?;
        rules.push(rule(spec, &key)?);
    }
    Ok(rules)
}

fn rule(spec: RuleSpec, key: &str) -> Result<ApprovalRule, PolicyError> {
    let at = |field: &str| format!("{key}.{field}");
    if spec.capabilities.is_empty() {
        return Err(PolicyError::at(&at("capabilities"), "name at least one capability (or a glob)"));
    }
    for (i, pattern) in spec.capabilities.iter().enumerate() {
        let key = at(&format!("capabilities[{i}]"));
        super::file::check_grant(pattern).map_err(|p| PolicyError::at(&key, p))?;
        // Approval holds a call back from the workers; a tool the gateway answers at once (reading
        // an operation, stopping a lease, deciding an approval) never waits.
        let glob = CapabilityGlob::new(pattern);
        if !worker_capabilities().any(|c| glob.matches(c)) {
            return Err(PolicyError::at(
                &key,
                format!(
                    "{pattern:?} names no capability of a tool the workers run; only those can wait for approval \
                     (tools the gateway answers itself, such as stop_proxy or get_operation, never wait)"
                ),
            ));
        }
    }
    if !spec.kinds.is_empty() {
        if !spec.capabilities.iter().any(|g| CapabilityGlob::new(g).matches(Capability::ProxyStart)) {
            return Err(PolicyError::at(
                &at("kinds"),
                "narrows `proxy.start` only, which `capabilities` does not name",
            ));
        }
        if let Some(bad) = spec.kinds.iter().find(|k| !ALL_PROXY_KINDS.contains(&k.as_str())) {
            return Err(PolicyError::at(
                &at("kinds"),
                format!("unknown kind {bad:?}; kinds are {}", ALL_PROXY_KINDS.join(", ")),
            ));
        }
    }
    let a = spec.approvers;
    if a.roles.is_empty() && a.actors.is_empty() && a.groups.is_empty() {
        return Err(PolicyError::at(&at("approvers"), "name at least one of `roles`, `actors` or `groups`"));
    }
    for (i, actor) in a.actors.iter().enumerate() {
        super::file::check_bound_actor(actor)
            .map_err(|p| PolicyError::at(&at(&format!("approvers.actors[{i}]")), p))?;
    }
    if let Some(bad) = a.groups.iter().find(|g| g.trim().is_empty()) {
        return Err(PolicyError::at(&at("approvers.groups"), format!("{bad:?} is not a group name")));
    }
    if spec.approvals == 0 || spec.approvals > MAX_APPROVALS {
        return Err(PolicyError::at(&at("approvals"), format!("must be between 1 and {MAX_APPROVALS}")));
    }
    // Only named actors can be counted ahead: with nobody else, too many approvals never come.
    if a.roles.is_empty() && a.groups.is_empty() && (a.actors.len() as u32) < spec.approvals {
        return Err(PolicyError::at(
            &at("approvals"),
            format!(
                "{} approvals from {} named actor(s) can never be reached; name more approvers or ask for fewer",
                spec.approvals,
                a.actors.len()
            ),
        ));
    }
    if !(MIN_EXPIRY..=MAX_EXPIRY).contains(&spec.expires_after) {
        return Err(PolicyError::at(&at("expires_after"), "must be between 1m and 7d"));
    }
    Ok(ApprovalRule {
        capabilities: spec.capabilities,
        kinds: spec.kinds,
        approvers: Approvers { roles: a.roles, actors: a.actors, groups: a.groups },
        approvals: spec.approvals,
        expires_after_seconds: spec.expires_after.as_secs(),
    })
}

/// Capabilities of the tools the workers run.
fn worker_capabilities() -> impl Iterator<Item = Capability> {
    CATALOG.iter().filter(|t| t.execution == Execution::Worker).map(|t| t.capability)
}
