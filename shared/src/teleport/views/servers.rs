//! Views of SSH nodes and proxies (`ServerV2` heartbeats).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{histogram, to_second};
use crate::teleport::models::Server;

/// The SSH nodes registered with the cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NodeList {
    /// Number of nodes.
    pub count: usize,
    /// Nodes whose heartbeat has expired (probably offline).
    pub stale_count: usize,
    /// Number of nodes per Teleport version.
    pub versions: BTreeMap<String, usize>,
    /// The nodes, sorted by hostname.
    pub nodes: Vec<NodeView>,
}

/// One SSH node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NodeView {
    /// Node UUID (the resource name; use it to address the node).
    pub name: String,
    /// Host name reported by the agent.
    pub hostname: String,
    /// `host:port` the node listens on, or `tunnel` when it is reached through a reverse tunnel.
    pub addr: String,
    /// Static labels and the current values of command labels.
    pub labels: BTreeMap<String, String>,
    /// Teleport version of the agent.
    pub version: String,
    /// `teleport` for Teleport agents, `openssh`/`openssh-ec2-ice` for agentless nodes.
    pub sub_kind: String,
    /// Connected through a reverse tunnel.
    pub tunnel: bool,
    /// When the last heartbeat expires (RFC 3339).
    #[schemars(with = "Option<String>", extend("format" = "date-time"))]
    pub expires: Option<DateTime<Utc>>,
    /// The heartbeat has expired: the node is probably offline.
    pub stale: bool,
}

/// The proxies of the cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProxyList {
    /// Number of proxies.
    pub count: usize,
    /// Proxies whose heartbeat has expired.
    pub stale_count: usize,
    /// Number of proxies per Teleport version.
    pub versions: BTreeMap<String, usize>,
    /// The proxies, sorted by hostname.
    pub proxies: Vec<ProxyView>,
}

/// One proxy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProxyView {
    /// Proxy UUID.
    pub name: String,
    /// Host name.
    pub hostname: String,
    /// Internal `host:port` (reverse-tunnel listener).
    pub addr: String,
    /// Public addresses clients use.
    pub public_addrs: Vec<String>,
    /// Teleport version.
    pub version: String,
    /// Static labels.
    pub labels: BTreeMap<String, String>,
    /// When the last heartbeat expires (RFC 3339).
    #[schemars(with = "Option<String>", extend("format" = "date-time"))]
    pub expires: Option<DateTime<Utc>>,
    /// The heartbeat has expired.
    pub stale: bool,
}

fn is_stale(expires: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    expires.is_some_and(|e| e < now)
}

impl NodeList {
    /// Builds the view; `now` decides staleness.
    pub fn build(servers: &[Server], now: DateTime<Utc>) -> NodeList {
        let mut nodes: Vec<NodeView> = servers.iter().map(|s| NodeView::build(s, now)).collect();
        nodes.sort_by(|a, b| a.hostname.cmp(&b.hostname).then_with(|| a.name.cmp(&b.name)));
        NodeList {
            count: nodes.len(),
            stale_count: nodes.iter().filter(|n| n.stale).count(),
            versions: histogram(nodes.iter().map(|n| n.version.as_str())),
            nodes,
        }
    }
}

impl NodeView {
    fn build(s: &Server, now: DateTime<Utc>) -> NodeView {
        let mut labels = s.metadata.labels.clone();
        for (key, label) in &s.spec.cmd_labels {
            labels.insert(key.clone(), label.result.trim().to_owned());
        }
        let tunnel = s.spec.use_tunnel;
        NodeView {
            name: s.metadata.name.clone(),
            hostname: s.spec.hostname.clone(),
            addr: if tunnel { "tunnel".to_owned() } else { s.spec.addr.clone() },
            labels,
            version: s.spec.version.clone(),
            sub_kind: if s.sub_kind.is_empty() { "teleport".to_owned() } else { s.sub_kind.clone() },
            tunnel,
            expires: to_second(s.metadata.expires),
            stale: is_stale(s.metadata.expires, now),
        }
    }
}

impl ProxyList {
    /// Builds the view; `now` decides staleness.
    pub fn build(servers: &[Server], now: DateTime<Utc>) -> ProxyList {
        let mut proxies: Vec<ProxyView> = servers
            .iter()
            .map(|s| ProxyView {
                name: s.metadata.name.clone(),
                hostname: s.spec.hostname.clone(),
                addr: s.spec.addr.clone(),
                public_addrs: s.spec.public_addrs.clone(),
                version: s.spec.version.clone(),
                labels: s.metadata.labels.clone(),
                expires: to_second(s.metadata.expires),
                stale: is_stale(s.metadata.expires, now),
            })
            .collect();
        proxies.sort_by(|a, b| a.hostname.cmp(&b.hostname).then_with(|| a.name.cmp(&b.name)));
        ProxyList {
            count: proxies.len(),
            stale_count: proxies.iter().filter(|p| p.stale).count(),
            versions: histogram(proxies.iter().map(|p| p.version.as_str())),
            proxies,
        }
    }
}
