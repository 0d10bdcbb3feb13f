//! `node` and `proxy` resources (`ServerV2`), printed by `tctl get nodes|proxies`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use super::{Metadata, Rotation, de};

/// A Teleport SSH node or proxy heartbeat (`ServerV2`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Server {
    /// `node` or `proxy`.
    #[serde(deserialize_with = "de::lenient_string")]
    pub kind: String,
    /// Empty or `teleport` for agents; `openssh`/`openssh-ec2-ice` for agentless nodes.
    #[serde(deserialize_with = "de::lenient_string")]
    pub sub_kind: String,
    /// Resource version (`v2`).
    #[serde(deserialize_with = "de::lenient_string")]
    pub version: String,
    /// Name (host UUID), labels, heartbeat expiry.
    #[serde(deserialize_with = "de::nullable")]
    pub metadata: Metadata,
    /// Address, hostname, version.
    #[serde(deserialize_with = "de::nullable")]
    pub spec: ServerSpec,
}

/// `ServerSpecV2`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ServerSpec {
    /// `host:port` the node listens on; empty for reverse-tunnel agents.
    #[serde(deserialize_with = "de::lenient_string")]
    pub addr: String,
    /// Host name reported by the agent.
    #[serde(deserialize_with = "de::lenient_string")]
    pub hostname: String,
    /// Teleport version of the agent.
    #[serde(deserialize_with = "de::lenient_string")]
    pub version: String,
    /// Connected through a reverse tunnel.
    #[serde(deserialize_with = "de::lenient_bool")]
    pub use_tunnel: bool,
    /// Address for proxy peering.
    #[serde(deserialize_with = "de::lenient_string")]
    pub peer_addr: String,
    /// Proxies the agent is connected to.
    #[serde(deserialize_with = "de::string_list")]
    pub proxy_ids: Vec<String>,
    /// Public addresses (proxies).
    #[serde(deserialize_with = "de::string_list")]
    pub public_addrs: Vec<String>,
    /// Dynamic labels: command output refreshed every `period`.
    #[serde(deserialize_with = "de::nullable")]
    pub cmd_labels: BTreeMap<String, CommandLabel>,
    /// Host certificate rotation state (zeroed on most servers).
    #[serde(deserialize_with = "de::nullable")]
    pub rotation: Option<Rotation>,
}

/// A dynamic (command) label.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct CommandLabel {
    /// Refresh period.
    #[serde(deserialize_with = "de::go_duration")]
    pub period: Option<Duration>,
    /// Command and arguments.
    #[serde(deserialize_with = "de::string_list")]
    pub command: Vec<String>,
    /// Last output.
    #[serde(deserialize_with = "de::lenient_string")]
    pub result: String,
}
