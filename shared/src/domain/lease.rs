//! Proxy lease kinds (what `start_proxy` may start) and the statuses a lease goes through.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The kind of a long-running `tsh` process a lease owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LeaseKind {
    ProxySsh,
    ProxyDb,
    ProxyApp,
    ProxyKube,
    ProxyMcp,
    Vnet,
}

impl LeaseKind {
    /// Every kind, in the order of the `leases.kind` CHECK constraint.
    pub const ALL: &'static [LeaseKind] =
        &[Self::ProxySsh, Self::ProxyDb, Self::ProxyApp, Self::ProxyKube, Self::ProxyMcp, Self::Vnet];

    /// The text stored in `leases.kind` and used by policies.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::ProxySsh => "proxy_ssh",
            Self::ProxyDb => "proxy_db",
            Self::ProxyApp => "proxy_app",
            Self::ProxyKube => "proxy_kube",
            Self::ProxyMcp => "proxy_mcp",
            Self::Vnet => "vnet",
        }
    }
}

impl fmt::Display for LeaseKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A kind name that does not exist.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown proxy kind {0:?}; kinds are proxy_ssh, proxy_db, proxy_app, proxy_kube, proxy_mcp, vnet")]
pub struct UnknownLeaseKind(pub String);

impl FromStr for LeaseKind {
    type Err = UnknownLeaseKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownLeaseKind(s.chars().take(64).collect()))
    }
}

/// Where a lease is in its life: `starting` → `active` → `stopping` → one of the ended statuses
/// (`stopped`, `expired`, `failed`). The text is `leases.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LeaseStatus {
    Starting,
    Active,
    Stopping,
    Stopped,
    Expired,
    Failed,
}

impl LeaseStatus {
    /// Every status, in the order of the `leases.status` CHECK constraint.
    pub const ALL: &'static [LeaseStatus] =
        &[Self::Starting, Self::Active, Self::Stopping, Self::Stopped, Self::Expired, Self::Failed];

    /// The text stored in `leases.status`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Starting => "starting",
            Self::Active => "active",
            Self::Stopping => "stopping",
            Self::Stopped => "stopped",
            Self::Expired => "expired",
            Self::Failed => "failed",
        }
    }

    /// Whether the lease's process may still be running (starting, active, stopping).
    pub fn is_live(self) -> bool {
        matches!(self, Self::Starting | Self::Active | Self::Stopping)
    }
}

impl fmt::Display for LeaseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status text that is not one of [`LeaseStatus`]'s.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown lease status {0:?}")]
pub struct UnknownLeaseStatus(pub String);

impl FromStr for LeaseStatus {
    type Err = UnknownLeaseStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownLeaseStatus(s.chars().take(64).collect()))
    }
}

/// Reading `leases.status` from a row (`#[sqlx(try_from = "String")]`).
impl TryFrom<String> for LeaseStatus {
    type Error = UnknownLeaseStatus;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in LeaseKind::ALL {
            assert_eq!(k.as_str().parse::<LeaseKind>().unwrap(), *k);
        }
        assert!("telnet".parse::<LeaseKind>().unwrap_err().to_string().contains("proxy_db"));
        for s in LeaseStatus::ALL {
            assert_eq!(s.as_str().parse::<LeaseStatus>().unwrap(), *s);
        }
        assert!("paused".parse::<LeaseStatus>().is_err());
    }
}
