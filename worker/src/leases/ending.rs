//! How a supervised lease ends: the status and stop reason written to its row, the metrics event,
//! and the sentence its logs get. Derived from the row when someone else asked for the stop.

use mtcp_shared::db::leases::{LeaseEnd, LeaseRow};
use mtcp_shared::domain::LeaseStatus;
use uuid::Uuid;

/// The end of one lease.
#[derive(Debug, Clone)]
pub(crate) struct Ending {
    pub how: LeaseEnd,
    /// `stop_reason` if the row has none yet.
    pub reason: &'static str,
    /// `event` label of `mtcp_lease_events_total`.
    pub event: &'static str,
    /// For the lease's `system` log line.
    pub why: String,
}

impl Ending {
    /// The worker is stopping: its leases cannot outlive it.
    pub(crate) fn shutdown() -> Self {
        Self {
            how: LeaseEnd::Failed,
            reason: "worker_shutdown",
            event: "worker_shutdown",
            why: "the worker is shutting down".into(),
        }
    }

    /// The process (or listener) never came up.
    pub(crate) fn start_failed(why: &str) -> Self {
        Self { how: LeaseEnd::Failed, reason: "start_failed", event: "start_failed", why: why.to_owned() }
    }

    /// The process ended by itself.
    pub(crate) fn exited() -> Self {
        Self { how: LeaseEnd::Failed, reason: "exited", event: "exited", why: "the process exited by itself".into() }
    }

    /// What to do about a supervised lease given its row (`None`: the row is gone): nothing while it
    /// is `starting`/`active` under `owner`, otherwise stop it and end it as the row says.
    pub(crate) fn from_row(row: Option<&LeaseRow>, owner: Uuid) -> Option<Self> {
        let Some(row) = row else {
            return Some(Self {
                how: LeaseEnd::Failed,
                reason: "owner_lost",
                event: "owner_lost",
                why: "the lease no longer exists in the database".into(),
            });
        };
        let reason = row.stop_reason.as_deref().unwrap_or("");
        match row.status {
            LeaseStatus::Starting | LeaseStatus::Active if row.agent_id == Some(owner) => None,
            LeaseStatus::Starting | LeaseStatus::Active => Some(Self {
                how: LeaseEnd::Failed,
                reason: "owner_lost",
                event: "owner_lost",
                why: "another worker owns the lease now".into(),
            }),
            LeaseStatus::Stopping if reason == "expired" => Some(Self {
                how: LeaseEnd::Expired,
                reason: "expired",
                event: "expired",
                why: "the lease expired".into(),
            }),
            LeaseStatus::Stopping => Some(Self {
                how: LeaseEnd::Stopped,
                reason: mtcp_shared::domain::ToolName::StopProxy.as_str(),
                event: "stopped",
                why: format!("stop requested ({})", if reason.is_empty() { "no reason" } else { reason }),
            }),
            // Already ended elsewhere (the reaper's `owner_lost`): only the process is left to stop.
            ended @ (LeaseStatus::Stopped | LeaseStatus::Expired | LeaseStatus::Failed) => Some(Self {
                how: LeaseEnd::Failed,
                reason: "owner_lost",
                event: match ended {
                    _ if reason == "owner_lost" => "owner_lost",
                    LeaseStatus::Failed => "owner_lost",
                    LeaseStatus::Expired => "expired",
                    _ => "stopped",
                },
                why: format!("the lease was ended elsewhere ({ended}, {reason})"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(status: LeaseStatus, reason: Option<&str>, owner: Option<Uuid>) -> LeaseRow {
        let now = chrono::Utc::now();
        LeaseRow {
            lease_id: Uuid::nil(),
            op_id: Uuid::nil(),
            kind: "proxy_db".into(),
            actor: "a".into(),
            target: serde_json::json!({}),
            listen_addr: None,
            requested_listen_addr: None,
            agent_id: owner,
            host: None,
            pid: None,
            created_at: now,
            expires_at: now,
            status,
            stop_reason: reason.map(Into::into),
            last_heartbeat_at: None,
            ended_at: None,
            exit_code: None,
            edge_agent: None,
            cluster: None,
        }
    }

    #[test]
    fn the_row_decides_whether_and_how_a_lease_ends() {
        let me = Uuid::from_u128(1);
        let other = Uuid::from_u128(2);
        assert!(Ending::from_row(Some(&row(LeaseStatus::Active, None, Some(me))), me).is_none());
        assert!(Ending::from_row(Some(&row(LeaseStatus::Starting, None, Some(me))), me).is_none());
        let e = |status, reason, owner| Ending::from_row(Some(&row(status, reason, owner)), me).unwrap();
        assert_eq!(e(LeaseStatus::Active, None, Some(other)).event, "owner_lost");
        let expired = e(LeaseStatus::Stopping, Some("expired"), Some(me));
        assert_eq!((expired.how, expired.event), (LeaseEnd::Expired, "expired"));
        let stopped = e(LeaseStatus::Stopping, Some("stop_proxy"), Some(me));
        assert_eq!((stopped.how, stopped.event), (LeaseEnd::Stopped, "stopped"));
        assert_eq!(e(LeaseStatus::Failed, Some("owner_lost"), Some(me)).event, "owner_lost");
        assert_eq!(Ending::from_row(None, me).unwrap().event, "owner_lost");
    }
}
