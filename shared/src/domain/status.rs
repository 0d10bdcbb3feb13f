//! The life cycle of an operation.

use serde::{Deserialize, Serialize};

/// Status of an operation; `denied` and the last four are terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OperationStatus {
    Denied,
    Queued,
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Cancelled,
}

impl OperationStatus {
    /// The text stored in the `operations.status` column.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Denied => "denied",
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::TimedOut => "timed_out",
            Self::Cancelled => "cancelled",
        }
    }

    /// Parse the column text; unknown text means the schema and the code disagree.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "denied" => Self::Denied,
            "queued" => Self::Queued,
            "running" => Self::Running,
            "succeeded" => Self::Succeeded,
            "failed" => Self::Failed,
            "timed_out" => Self::TimedOut,
            "cancelled" => Self::Cancelled,
            _ => return None,
        })
    }

    /// True once nothing will change the operation any more.
    pub fn is_terminal(&self) -> bool {
        !matches!(self, Self::Queued | Self::Running)
    }
}
