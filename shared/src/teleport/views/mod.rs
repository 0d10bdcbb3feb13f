//! Compact, typed views of the inventory for an LLM: no zero timestamps (absent instead), every
//! duration in whole seconds (`*_seconds` fields), timestamps in RFC 3339 to the second, secrets
//! and key material never included. Each top-level type is a JSON object with a schema.

mod auth_preference;
mod cas;
mod roles;
mod servers;
mod targets;
mod tokens;
mod users;

pub use auth_preference::AuthPreferenceView;
pub use cas::{CaList, CaView, KeyCounts, RotationView};
pub use roles::{ConditionsView, RoleList, RoleOptionsView, RoleView};
pub use servers::{NodeList, NodeView, ProxyList, ProxyView};
pub use targets::{AgentRef, TargetKind, TargetList, TargetView, mcp_transport};
pub use tokens::{TokenList, TokenView, mask_token_name};
pub use users::{UserList, UserView};

use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};

/// Drops sub-second precision: an LLM gains nothing from nanoseconds.
pub(crate) fn to_second(t: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    t.map(|t| t.trunc_subsecs(0))
}

/// A duration as whole seconds.
pub(crate) fn seconds(d: Option<Duration>) -> Option<u64> {
    d.map(|d| d.as_secs())
}

/// Counts of each distinct value, e.g. agent versions.
pub(crate) fn histogram<'a>(values: impl Iterator<Item = &'a str>) -> std::collections::BTreeMap<String, usize> {
    let mut out = std::collections::BTreeMap::new();
    for v in values {
        let key = if v.is_empty() { "unknown" } else { v };
        *out.entry(key.to_owned()).or_insert(0) += 1;
    }
    out
}
