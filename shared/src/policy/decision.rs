//! A policy decision, stored with every operation so a denial can be explained later.

use serde::{Deserialize, Serialize};

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
