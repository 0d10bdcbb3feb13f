//! The edge section: the rhythm the gateway gives edge agents when they register.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Edge agents (`mtcp-edge`): how long their polls wait, how often they must heartbeat, and how
/// long one may be cut off from the gateways before it kills its proxies.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EdgeConfig {
    /// Longest wait of one poll for work; below any proxy's or ingress' idle timeout.
    #[serde(with = "humantime_serde")]
    pub poll_wait: Duration,
    /// How often an agent heartbeats (its leases' heartbeat too). The reaper marks an agent
    /// offline after `reaper.agent_offline_after` of silence, and its leases `owner_lost`. Unset:
    /// a sixth of that, at most 5 s.
    #[serde(with = "humantime_serde")]
    pub heartbeat_interval: Option<Duration>,
    /// An agent that could not reach a gateway for this long kills every proxy it runs.
    #[serde(with = "humantime_serde")]
    pub fail_closed_after: Duration,
}

impl EdgeConfig {
    /// The heartbeat interval handed to agents: the configured one, else a sixth of the reaper's
    /// silence threshold (at most 5 s), so a healthy agent is never taken for a silent one.
    pub fn heartbeat(&self, agent_offline_after: Duration) -> Duration {
        self.heartbeat_interval
            .unwrap_or_else(|| (agent_offline_after / 6).clamp(Duration::from_millis(100), Duration::from_secs(5)))
    }
}

impl Default for EdgeConfig {
    fn default() -> Self {
        Self {
            poll_wait: Duration::from_secs(25),
            heartbeat_interval: None,
            fail_closed_after: Duration::from_secs(60),
        }
    }
}
