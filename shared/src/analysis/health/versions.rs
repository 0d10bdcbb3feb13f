//! Version skew between Teleport agents, proxies and the cluster (Auth Service). Teleport supports
//! agents at most one major version behind the Auth Service and never ahead of it; this check is
//! stricter: any major version behind fails, a minor version behind warns, and anything ahead of
//! the cluster is reported the same way. Patch differences are fine.

use std::fmt;
use std::str::FromStr;

use serde_json::json;

use super::HealthCheck;
use crate::analysis::Severity;
use crate::teleport::models::Server;

const ID: &str = "teleport.versions";
const NAME: &str = "Teleport version skew";

/// A Teleport release version (`18.1.4`, `v17.7.1`, `18.2.0-dev.1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// Major release.
    pub major: u64,
    /// Minor release.
    pub minor: u64,
    /// Patch release (0 when absent).
    pub patch: u64,
}

/// A version string that is not `MAJOR.MINOR[.PATCH]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    /// Nothing was reported.
    #[error("no version reported")]
    Empty,
    /// Something else than `MAJOR.MINOR[.PATCH]`.
    #[error("not a Teleport version: {0:?}")]
    Malformed(String),
}

impl FromStr for Version {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        if text.is_empty() {
            return Err(VersionError::Empty);
        }
        let core = text.strip_prefix('v').unwrap_or(text);
        let core = core.split(['-', '+']).next().unwrap_or(core);
        let parts: Vec<&str> = core.split('.').collect();
        let num = |p: &str| p.parse::<u64>().map_err(|_| VersionError::Malformed(text.to_owned()));
        match parts.as_slice() {
            [major, minor] => Ok(Version { major: num(major)?, minor: num(minor)?, patch: 0 }),
            [major, minor, patch] => Ok(Version { major: num(major)?, minor: num(minor)?, patch: num(patch)? }),
            _ => Err(VersionError::Malformed(text.to_owned())),
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

fn entry(s: &Server) -> serde_json::Value {
    json!({ "kind": s.kind, "name": s.metadata.name, "hostname": s.spec.hostname, "version": s.spec.version })
}

/// Compares every proxy and Teleport node with the cluster version (from `tctl status`), or, when
/// that is unknown, with the newest proxy (else the newest node). Agentless OpenSSH nodes run no
/// Teleport and are skipped. Id `teleport.versions`.
pub fn check_versions(nodes: &[Server], proxies: &[Server], cluster_version: Option<&str>) -> HealthCheck {
    let agents: Vec<&Server> =
        proxies.iter().chain(nodes.iter().filter(|n| !n.sub_kind.starts_with("openssh"))).collect();
    let parsed = |list: &[Server]| list.iter().filter_map(|s| s.spec.version.parse::<Version>().ok()).max();
    let mut unparseable: Vec<serde_json::Value> = Vec::new();
    let cluster = cluster_version.map(|v| (v, v.parse::<Version>()));
    if let Some((text, Err(e))) = &cluster {
        unparseable.push(json!({ "kind": "cluster", "version": text, "error": e.to_string() }));
    }
    let reference = match cluster {
        Some((_, Ok(v))) => Some((v, "cluster")),
        _ => parsed(proxies).map(|v| (v, "newest proxy")).or_else(|| parsed(nodes).map(|v| (v, "newest node"))),
    };
    let Some((reference, source)) = reference else {
        if agents.is_empty() {
            return HealthCheck::skipped(ID, NAME, "no cluster version and no Teleport agents to compare");
        }
        let list: Vec<_> = agents.iter().map(|s| entry(s)).collect();
        return HealthCheck::warn(ID, NAME, "no agent reports a parseable Teleport version")
            .with_details(json!({ "unparseable": list }));
    };
    let (mut major_behind, mut minor_behind, mut ahead) = (Vec::new(), Vec::new(), Vec::new());
    let mut major_ahead = false;
    for s in &agents {
        match s.spec.version.parse::<Version>() {
            Err(e) => {
                let mut v = entry(s);
                v["error"] = json!(e.to_string());
                unparseable.push(v);
            }
            Ok(v) if v.major < reference.major => major_behind.push(entry(s)),
            Ok(v) if v.major > reference.major => {
                major_ahead = true;
                ahead.push(entry(s));
            }
            Ok(v) if v.minor < reference.minor => minor_behind.push(entry(s)),
            Ok(v) if v.minor > reference.minor => ahead.push(entry(s)),
            Ok(_) => {}
        }
    }
    let versions = crate::teleport::views::histogram(agents.iter().map(|s| s.spec.version.as_str()));
    let mut parts = Vec::new();
    for (n, what) in [
        (major_behind.len(), "a major version behind"),
        (minor_behind.len(), "a minor version behind"),
        (ahead.len(), "ahead of the reference"),
        (unparseable.len(), "with an unparseable version"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    let details = json!({ "reference": { "version": reference.to_string(), "source": source },
        "agents": agents.len(), "versions": versions, "major_behind": major_behind,
        "minor_behind": minor_behind, "ahead": ahead, "unparseable": unparseable });
    let summary = format!("{} (reference {reference}, {source})", parts.join(", "));
    let check = if !major_behind.is_empty() || major_ahead {
        HealthCheck::fail(ID, NAME, summary)
    } else if !minor_behind.is_empty() || !ahead.is_empty() {
        HealthCheck::warn(ID, NAME, summary)
    } else if !unparseable.is_empty() {
        HealthCheck::warn(ID, NAME, summary).with_severity(Severity::Low)
    } else {
        HealthCheck::ok(
            ID,
            NAME,
            format!("all {} agents run {}.{}.x ({source})", agents.len(), reference.major, reference.minor),
        )
    };
    check.with_details(details)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse() {
        assert_eq!("18.1.4".parse(), Ok(Version { major: 18, minor: 1, patch: 4 }));
        assert_eq!("v17.7".parse(), Ok(Version { major: 17, minor: 7, patch: 0 }));
        assert_eq!("18.2.0-dev.1".parse::<Version>().map(|v| v.to_string()), Ok("18.2.0".to_owned()));
        assert_eq!("".parse::<Version>(), Err(VersionError::Empty));
        assert!(matches!("eighteen".parse::<Version>(), Err(VersionError::Malformed(_))));
        assert!(matches!("18".parse::<Version>(), Err(VersionError::Malformed(_))));
    }
}
