//! The life cycle of an operation.

use serde::{Deserialize, Serialize};

/// Status of an operation: `awaiting_approval`, `queued` and `running` are active; the rest are
/// terminal (`denied` and `expired` ones never ran).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OperationStatus {
    Denied,
    /// Waiting for the approvals its policy asks for; not claimable until then.
    AwaitingApproval,
    Queued,
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Cancelled,
    /// Nobody approved it in time; it never ran.
    Expired,
}

impl OperationStatus {
    /// The text stored in the `operations.status` column.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Denied => "denied",
            Self::AwaitingApproval => "awaiting_approval",
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::TimedOut => "timed_out",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
        }
    }

    /// Parse the column text; unknown text means the schema and the code disagree.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "denied" => Self::Denied,
            "awaiting_approval" => Self::AwaitingApproval,
            "queued" => Self::Queued,
            "running" => Self::Running,
            "succeeded" => Self::Succeeded,
            "failed" => Self::Failed,
            "timed_out" => Self::TimedOut,
            "cancelled" => Self::Cancelled,
            "expired" => Self::Expired,
            _ => return None,
        })
    }

    /// True once nothing will change the operation any more.
    pub fn is_terminal(&self) -> bool {
        !matches!(self, Self::AwaitingApproval | Self::Queued | Self::Running)
    }
}
