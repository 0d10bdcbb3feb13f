//! Capabilities: what a policy grants, one per tool family action (README, "Tools").

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

macro_rules! capabilities {
    ($($variant:ident => $name:literal),+ $(,)?) => {
        /// A capability a tool requires. The text form (`inventory.nodes`) is what policies name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Capability { $($variant),+ }

        impl Capability {
            /// Every capability, in declaration order.
            pub const ALL: &'static [Capability] = &[$(Capability::$variant),+];

            /// The dotted name, e.g. `inventory.nodes`.
            pub fn as_str(&self) -> &'static str {
                match self { $(Capability::$variant => $name),+ }
            }
        }

        impl FromStr for Capability {
            type Err = UnknownCapability;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s { $($name => Ok(Capability::$variant),)+ _ => Err(UnknownCapability(s.to_owned())) }
            }
        }
    };
}

capabilities! {
    InventoryNodes => "inventory.nodes",
    InventoryProxies => "inventory.proxies",
    InventoryRoles => "inventory.roles",
    InventoryUsers => "inventory.users",
    InventoryTokens => "inventory.tokens",
    InventoryCas => "inventory.cas",
    InventoryAuthPreference => "inventory.auth_preference",
    InventoryDatabases => "inventory.databases",
    InventoryApps => "inventory.apps",
    InventoryKubeClusters => "inventory.kube_clusters",
    InventoryMcpServers => "inventory.mcp_servers",
    InventoryWindowsDesktops => "inventory.windows_desktops",
    SecurityRbacScan => "security.rbac_scan",
    HealthCheck => "health.check",
    AuditSearch => "audit.search",
    AuditAnomalies => "audit.anomalies",
    AccessList => "access.list",
    AccessShow => "access.show",
    AccessCreate => "access.create",
    AccessReview => "access.review",
    AccessDrop => "access.drop",
    ProxyStart => "proxy.start",
    ProxyStatus => "proxy.status",
    ProxyLogs => "proxy.logs",
    ProxyStop => "proxy.stop",
    ProxyList => "proxy.list",
    PassthroughTsh => "passthrough.tsh",
    PassthroughTctl => "passthrough.tctl",
    SelfWhoami => "self.whoami",
    SelfOperations => "self.operations",
    SelfCheckPolicy => "self.check_policy",
    AdminOperations => "admin.operations",
    ApprovalReview => "approval.review",
}

impl Capability {
    /// Capabilities every authenticated caller holds, whatever its role (README, "Built-in roles").
    pub fn is_self_service(&self) -> bool {
        matches!(self, Self::SelfWhoami | Self::SelfOperations | Self::SelfCheckPolicy)
    }

    /// Passthrough capabilities are admin-only and also need a config switch.
    pub fn is_passthrough(&self) -> bool {
        matches!(self, Self::PassthroughTsh | Self::PassthroughTctl)
    }
}

/// A capability name that does not exist.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown capability {0:?}")]
pub struct UnknownCapability(pub String);

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Capability {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Capability {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for c in Capability::ALL {
            assert_eq!(c.as_str().parse::<Capability>().unwrap(), *c);
        }
        assert!("inventory.*".parse::<Capability>().is_err());
    }
}
