//! How serious a finding or a failed check is, and per-severity counts.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How serious a problem is. Ordered most serious first, so sorting ascending puts `critical` on top.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Cluster-wide compromise is one step away; fix now.
    Critical,
    /// A direct path to privilege escalation or a missing key control.
    High,
    /// Weakens defence in depth; plan a fix.
    Medium,
    /// Hygiene; worth knowing.
    Low,
}

impl Severity {
    /// The lowercase name (`critical`, `high`, `medium`, `low`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Number of findings per severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SeverityCounts {
    /// Critical findings.
    pub critical: usize,
    /// High findings.
    pub high: usize,
    /// Medium findings.
    pub medium: usize,
    /// Low findings.
    pub low: usize,
}

impl SeverityCounts {
    /// Counts the severities.
    pub fn count(severities: impl IntoIterator<Item = Severity>) -> SeverityCounts {
        let mut c = SeverityCounts::default();
        for s in severities {
            match s {
                Severity::Critical => c.critical += 1,
                Severity::High => c.high += 1,
                Severity::Medium => c.medium += 1,
                Severity::Low => c.low += 1,
            }
        }
        c
    }

    /// Total of all severities.
    pub fn total(&self) -> usize {
        self.critical + self.high + self.medium + self.low
    }
}
