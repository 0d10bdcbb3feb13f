//! The fixed set of reaper actions, counted in `mtcp_reaper_actions_total{action}`.

/// One kind of thing a sweep does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    AgentOffline,
    LeaseOwnerLost,
    LeaseExpired,
    LeaseNeverStarted,
    LeaseEndedUnstarted,
    OpOutcomeUnknown,
    JobRequeued,
    FollowerSettled,
    ApprovalExpired,
    RetentionLeases,
    RetentionOperations,
    RetentionAuditEvents,
    RetentionRateLimits,
}

impl Action {
    /// The `action` label.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::AgentOffline => "agent_offline",
            Self::LeaseOwnerLost => "lease_owner_lost",
            Self::LeaseExpired => "lease_expired",
            Self::LeaseNeverStarted => "lease_never_started",
            Self::LeaseEndedUnstarted => "lease_ended_unstarted",
            Self::OpOutcomeUnknown => "op_outcome_unknown",
            Self::JobRequeued => "job_requeued",
            Self::FollowerSettled => "follower_settled",
            Self::ApprovalExpired => "approval_expired",
            Self::RetentionLeases => "retention_leases",
            Self::RetentionOperations => "retention_operations",
            Self::RetentionAuditEvents => "retention_audit_events",
            Self::RetentionRateLimits => "retention_rate_limits",
        }
    }
}

/// Count `n` actions (nothing for zero, so idle sweeps create no series).
pub(crate) fn count(action: Action, n: u64) {
    if n > 0 {
        metrics::counter!("mtcp_reaper_actions_total", "action" => action.as_str()).increment(n);
    }
}
