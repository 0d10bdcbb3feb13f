//! A policy decision, stored with every operation so a denial can be explained later.

use serde::{Deserialize, Serialize};

use super::glob::CapabilityGlob;
use crate::domain::Capability;

/// Limits that apply to an allowed call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Constraints {
    /// Longest proxy lease the caller may request.
    pub max_ttl_seconds: u64,
    /// Live proxy leases the caller may hold at once.
    pub max_concurrent_proxies: u32,
    /// Proxy kinds the caller may start.
    pub allowed_proxy_kinds: Vec<String>,
    /// The caller sees and acts only on its own leases, requests and operations.
    pub own_objects_only: bool,
    /// Logins `proxy_ssh` may use: names, or `*` for any login but `root`, which only matches when
    /// listed by name. A target without a login (tsh then uses the worker's own OS user) needs `*`.
    #[serde(default)]
    pub ssh_logins: Vec<String>,
    /// Mutating calls must carry a ticket.
    #[serde(default)]
    pub require_ticket: bool,
    /// A ticket, when given, must match this regular expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_pattern: Option<String>,
    /// Worker calls the actor may have queued or running at once (None: unlimited), across every
    /// gateway replica; one more is refused until one finishes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_in_flight_calls: Option<u32>,
    /// Calls the actor may make per window (all tools together), across every gateway replica.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
    /// Calls that wait for other people's approval before they run (the first rule that matches).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub require_approval: Vec<ApprovalRule>,
}

impl Constraints {
    /// Whether `proxy_ssh` may log in as `login` (`None`: no login given).
    pub fn allows_ssh_login(&self, login: Option<&str>) -> bool {
        let any = self.ssh_logins.iter().any(|l| l == "*");
        match login {
            None => any,
            Some(login) => self.ssh_logins.iter().any(|l| l == login) || (any && login != "root"),
        }
    }

    /// The approval a call of `capability` needs (`kind`: a `start_proxy`'s proxy kind), if any.
    pub fn approval_for(&self, capability: Capability, kind: Option<&str>) -> Option<&ApprovalRule> {
        self.require_approval.iter().find(|rule| rule.covers(capability, kind))
    }
}

/// Who must approve which calls before they run, how many of them, and within how long.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ApprovalRule {
    /// Capabilities (names or globs such as `proxy.*`) whose calls wait for approval.
    pub capabilities: Vec<String>,
    /// For `proxy.start`: only these proxy kinds wait (empty: every kind).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<String>,
    pub approvers: Approvers,
    /// Distinct approvers needed.
    pub approvals: u32,
    /// How long a call waits for them before it expires.
    pub expires_after_seconds: u64,
}

impl ApprovalRule {
    /// Whether a call of `capability` (with the proxy `kind` of a `start_proxy`) needs this approval.
    pub fn covers(&self, capability: Capability, kind: Option<&str>) -> bool {
        let named = self.capabilities.iter().any(|g| CapabilityGlob::new(g).matches(capability));
        let narrowed = capability != Capability::ProxyStart
            || self.kinds.is_empty()
            || kind.is_some_and(|k| self.kinds.iter().any(|x| x == k));
        named && narrowed
    }

    /// "1 approval by role admin or group sre, within 15m".
    pub fn describe(&self) -> String {
        let n = self.approvals;
        let within = humantime::format_duration(std::time::Duration::from_secs(self.expires_after_seconds));
        format!("{n} approval{} by {}, within {within}", if n == 1 { "" } else { "s" }, self.approvers.describe())
    }
}

/// Who may approve: any actor named, holding a role named, or in a group named.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Approvers {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actors: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
}

impl Approvers {
    /// Whether this actor is one of the approvers (the requester is refused elsewhere).
    pub fn include(&self, actor: &crate::domain::Actor) -> bool {
        self.actors.contains(&actor.id)
            || self.roles.contains(&actor.role)
            || actor.groups.iter().any(|g| self.groups.contains(g))
    }

    /// "role admin or actor alice".
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        for (what, names) in [("role", &self.roles), ("actor", &self.actors), ("group", &self.groups)] {
            if !names.is_empty() {
                let s = if names.len() == 1 { "" } else { "s" };
                parts.push(format!("{what}{s} {}", names.join(", ")));
            }
        }
        parts.join(" or ")
    }
}

/// A rate: `requests` per `per_seconds`, with bursts up to `requests`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RateLimit {
    pub requests: u32,
    pub per_seconds: u64,
}

/// The outcome of `Policy::evaluate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Decision {
    pub allow: bool,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraints: Option<Constraints>,
    pub policy_version: String,
}

impl Decision {
    pub(crate) fn allow(reason: String, constraints: Constraints, version: &str) -> Self {
        Self { allow: true, reason, constraints: Some(constraints), policy_version: version.to_owned() }
    }

    /// A denial made outside `evaluate` (e.g. a rate limit), recorded like any other.
    pub fn denied(reason: String, version: &str) -> Self {
        Self::deny(reason, version)
    }

    pub(crate) fn deny(reason: String, version: &str) -> Self {
        Self { allow: false, reason, constraints: None, policy_version: version.to_owned() }
    }
}
