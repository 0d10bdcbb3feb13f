//! A role's cluster keys in the policy file: `clusters` (the only clusters it may use),
//! `cluster_grants` (grants that hold only on some clusters) and `cluster_constraints` (overrides of
//! `constraints` on one cluster). Errors name the key.

use std::collections::BTreeMap;

use super::file::{ClusterGrantSpec, ConstraintSpec, PolicyError, check_grant, constraints};
use super::{ClusterGrant, Constraints};
use crate::config::cluster_name_problem;

/// What a role's cluster keys contribute.
pub(super) struct ClusterParts {
    pub clusters: Vec<String>,
    pub grants: Vec<ClusterGrant>,
    /// Merged: the role's constraints with the cluster's overrides.
    pub constraints: BTreeMap<String, Constraints>,
}

/// Validate the cluster keys of the role at `key` (`roles.<name>`), whose constraints are `base`.
pub(super) fn parse(
    key: &str,
    clusters: Option<Vec<String>>,
    grants: Vec<ClusterGrantSpec>,
    overrides: BTreeMap<String, ConstraintSpec>,
    base: &Constraints,
) -> Result<ClusterParts, PolicyError> {
    if clusters.as_ref().is_some_and(Vec::is_empty) {
        return Err(PolicyError::at(
            &format!("{key}.clusters"),
            "names no cluster; list the clusters the role may use, or leave the key out for every cluster",
        ));
    }
    let limit = clusters.unwrap_or_default();
    for (i, c) in limit.iter().enumerate() {
        check_name(c, &format!("{key}.clusters[{i}]"))?;
    }
    // A cluster outside the role's limit could never see the grant or the constraints: a mistake.
    let usable = |cluster: &str, at: &str| -> Result<(), PolicyError> {
        if limit.is_empty() || limit.iter().any(|c| c == cluster) {
            return Ok(());
        }
        Err(PolicyError::at(
            at,
            format!(
                "cluster {cluster:?} is not among the clusters the role may use ({key}.clusters: {})",
                limit.join(", ")
            ),
        ))
    };
    let mut cluster_grants = Vec::with_capacity(grants.len());
    for (i, g) in grants.into_iter().enumerate() {
        let at = format!("{key}.cluster_grants[{i}]");
        if g.grants.is_empty() {
            return Err(PolicyError::at(
                &format!("{at}.grants"),
                "grants nothing; list capabilities or drop the entry",
            ));
        }
        for (j, grant) in g.grants.iter().enumerate() {
            check_grant(grant).map_err(|p| PolicyError::at(&format!("{at}.grants[{j}]"), p))?;
        }
        if g.clusters.is_empty() {
            return Err(PolicyError::at(
                &format!("{at}.clusters"),
                "names no cluster; list at least one (grants on every cluster go in the role's `grants`)",
            ));
        }
        for (j, c) in g.clusters.iter().enumerate() {
            let at = format!("{at}.clusters[{j}]");
            check_name(c, &at)?;
            usable(c, &at)?;
        }
        cluster_grants.push(ClusterGrant { grants: g.grants, clusters: g.clusters });
    }
    let mut merged = BTreeMap::new();
    for (cluster, spec) in overrides {
        let at = format!("{key}.cluster_constraints.{cluster}");
        check_name(&cluster, &at)?;
        usable(&cluster, &at)?;
        // One allowance per actor, whatever cluster its calls go to: a per-cluster rate would be
        // charged to that same allowance under other terms.
        if spec.rate_limit.is_some() {
            return Err(PolicyError::at(
                &format!("{at}.rate_limit"),
                "a role's rate limit covers all its clusters; set it in the role's `constraints`",
            ));
        }
        let c = constraints(spec, base.clone(), &at)?;
        merged.insert(cluster, c);
    }
    Ok(ClusterParts { clusters: limit, grants: cluster_grants, constraints: merged })
}

fn check_name(name: &str, at: &str) -> Result<(), PolicyError> {
    match cluster_name_problem(name) {
        Some(problem) => Err(PolicyError::at(at, format!("{name:?}: {problem}"))),
        None => Ok(()),
    }
}
