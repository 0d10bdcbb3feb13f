//! Capability globs: `*`, `inventory.*` or an exact name.

use crate::domain::Capability;

/// A parsed capability pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CapabilityGlob {
    Any,
    Prefix(String),
    Exact(String),
}

impl CapabilityGlob {
    pub(crate) fn new(pattern: &str) -> Self {
        match pattern {
            "*" => Self::Any,
            p if p.ends_with(".*") => Self::Prefix(p[..p.len() - 1].to_owned()),
            p => Self::Exact(p.to_owned()),
        }
    }

    pub(crate) fn matches(&self, cap: Capability) -> bool {
        let name = cap.as_str();
        match self {
            Self::Any => true,
            Self::Prefix(prefix) => name.starts_with(prefix.as_str()),
            Self::Exact(exact) => name == exact,
        }
    }
}
