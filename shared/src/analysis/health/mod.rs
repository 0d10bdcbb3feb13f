//! The health checks behind `run_health_check`: each check turns part of the inventory into one
//! [`HealthCheck`] (ok, warn, fail or skipped, with details), and [`HealthReport::from_checks`]
//! combines them with the control-plane self checks the worker computes and passes in.

mod inventory;
mod security;
mod versions;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use inventory::{check_cas, check_stale_nodes};
pub use security::{check_auth_preference, check_tokens, summarize_rbac};
pub use versions::{Version, VersionError, check_versions};

use super::Severity;

/// Outcome of one check. Ordered worst first (`fail`, `warn`, `ok`, `skipped`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    /// Something is broken or dangerous; act now.
    Fail,
    /// Degraded or risky; look at it.
    Warn,
    /// Healthy.
    Ok,
    /// Not run (no data, or not applicable).
    Skipped,
}

/// One check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HealthCheck {
    /// Stable id, e.g. `teleport.versions`, `control_plane.database`.
    pub id: String,
    /// Human-readable name.
    pub name: String,
    /// Outcome.
    pub status: HealthStatus,
    /// How serious the problem is; absent when the check passed or was skipped.
    pub severity: Option<Severity>,
    /// One line saying what was found.
    pub message: String,
    /// What the check looked at and the offending items (an object; empty when nothing to add).
    pub details: serde_json::Value,
}

impl HealthCheck {
    fn new(id: impl Into<String>, name: impl Into<String>, status: HealthStatus, message: impl Into<String>) -> Self {
        let severity = match status {
            HealthStatus::Fail => Some(Severity::High),
            HealthStatus::Warn => Some(Severity::Medium),
            HealthStatus::Ok | HealthStatus::Skipped => None,
        };
        HealthCheck {
            id: id.into(),
            name: name.into(),
            status,
            severity,
            message: message.into(),
            details: serde_json::Value::Object(serde_json::Map::new()),
        }
    }

    /// A passing check.
    pub fn ok(id: impl Into<String>, name: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(id, name, HealthStatus::Ok, message)
    }

    /// A warning, severity `medium` unless changed with [`HealthCheck::with_severity`].
    pub fn warn(id: impl Into<String>, name: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(id, name, HealthStatus::Warn, message)
    }

    /// A failure, severity `high` unless changed with [`HealthCheck::with_severity`].
    pub fn fail(id: impl Into<String>, name: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(id, name, HealthStatus::Fail, message)
    }

    /// A check that did not run.
    pub fn skipped(id: impl Into<String>, name: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(id, name, HealthStatus::Skipped, message)
    }

    /// Sets the severity (ignored for `ok` and `skipped` checks, which have none).
    pub fn with_severity(mut self, severity: Severity) -> Self {
        if matches!(self.status, HealthStatus::Fail | HealthStatus::Warn) {
            self.severity = Some(severity);
        }
        self
    }

    /// Sets the details (should be a JSON object).
    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

/// Number of checks per outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HealthSummary {
    /// Checks that passed.
    pub ok: usize,
    /// Checks that warned.
    pub warn: usize,
    /// Checks that failed.
    pub fail: usize,
    /// Checks that did not run.
    pub skipped: usize,
    /// All checks.
    pub total: usize,
}

/// The result of a health check run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HealthReport {
    /// Worst outcome among the checks that ran (`skipped` when none ran).
    pub status: HealthStatus,
    /// Number of checks per outcome.
    pub summary: HealthSummary,
    /// The checks: failures first, then warnings, then passing, then skipped; within each, most
    /// severe first, then by id.
    pub checks: Vec<HealthCheck>,
}

impl HealthReport {
    /// Combines checks into a report.
    pub fn from_checks(mut checks: Vec<HealthCheck>) -> HealthReport {
        // `None` severities sort after `Some`: Option orders None first, so compare the inverse.
        checks.sort_by(|a, b| {
            (a.status, a.severity.is_none(), a.severity, &a.id).cmp(&(
                b.status,
                b.severity.is_none(),
                b.severity,
                &b.id,
            ))
        });
        let count = |s: HealthStatus| checks.iter().filter(|c| c.status == s).count();
        let summary = HealthSummary {
            ok: count(HealthStatus::Ok),
            warn: count(HealthStatus::Warn),
            fail: count(HealthStatus::Fail),
            skipped: count(HealthStatus::Skipped),
            total: checks.len(),
        };
        let status = checks.first().map_or(HealthStatus::Skipped, |c| c.status);
        HealthReport { status, summary, checks }
    }
}
