//! The cluster side of a role: which clusters it may use, grants that hold only on some, and the
//! constraints that apply on one. Denials name the policy key that decided them.

use regex::Regex;

use super::{CompiledRole, Constraints};
use crate::domain::Capability;

impl CompiledRole {
    /// Why the role may not touch `cluster` at all (None: it may, or the call touches none).
    pub(super) fn cluster_refusal(&self, role: &str, cluster: Option<&str>) -> Option<String> {
        let cluster = cluster?;
        let only = &self.def.clusters;
        (!only.is_empty() && !only.iter().any(|c| c == cluster)).then(|| {
            format!(
                "role '{role}' may use only clusters {} (roles.{role}.clusters); this call is for cluster '{cluster}'",
                only.join(", ")
            )
        })
    }

    /// Whether a cluster grant gives `capability` on `cluster` (None: a call that touches no
    /// cluster, which any cluster grant covers). `Err`: why not, naming the entries that only grant
    /// it elsewhere.
    pub(super) fn cluster_grant(
        &self,
        role: &str,
        capability: Capability,
        cluster: Option<&str>,
    ) -> Result<(), String> {
        let mut elsewhere = Vec::new();
        for (i, (entry, globs)) in self.def.cluster_grants.iter().zip(&self.cluster_globs).enumerate() {
            if !globs.iter().any(|g| g.matches(capability)) {
                continue;
            }
            match cluster {
                Some(c) if !entry.clusters.iter().any(|x| x == c) => elsewhere.push(i),
                _ => return Ok(()),
            }
        }
        let (Some(cluster), false) = (cluster, elsewhere.is_empty()) else {
            return Err(format!("capability '{capability}' is not granted to role '{role}'"));
        };
        let mut clusters: Vec<&str> = Vec::new();
        for c in elsewhere.iter().flat_map(|i| &self.def.cluster_grants[*i].clusters) {
            if !clusters.contains(&c.as_str()) {
                clusters.push(c);
            }
        }
        let keys: Vec<String> = elsewhere.iter().map(|i| format!("roles.{role}.cluster_grants[{i}]")).collect();
        Err(format!(
            "capability '{capability}' is granted to role '{role}' only on clusters {} ({}); this call is for cluster '{cluster}'",
            clusters.join(", "),
            keys.join(", ")
        ))
    }

    /// The constraints and ticket pattern that hold on `cluster`, and the cluster when they are
    /// that cluster's own (for the wording of a denial).
    pub(super) fn effective<'a>(
        &'a self,
        cluster: Option<&'a str>,
    ) -> (&'a Constraints, Option<&'a Regex>, Option<&'a str>) {
        if let Some(c) = cluster
            && let (Some(constraints), Some(ticket)) =
                (self.def.cluster_constraints.get(c), self.cluster_tickets.get(c))
        {
            return (constraints, ticket.as_ref(), Some(c));
        }
        (&self.def.constraints, self.ticket.as_ref(), None)
    }
}
