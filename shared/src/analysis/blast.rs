//! Blast radius of an access request: what the requested roles or resources would make reachable
//! (nodes, databases, Kubernetes clusters, apps, MCP servers and Windows desktops, counted by their
//! `env` label), with which logins, and whether a requested role is admin-equivalent by the
//! `scan_rbac` rules. Reviewers and approvers see impact, not just allow/deny.
//!
//! Label selectors are matched the way Teleport's `MatchLabels` does (`lib/services/role.go`):
//! an empty selector matches nothing, `'*': '*'` matches everything, otherwise every key must be
//! present with a value matching one of the selector's values (`*`, a glob, or a `^…$` regex).
//! A deny selector of any requested role removes what it matches.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::rbac::pattern::{role_matches, trait_name};
use super::rbac::privilege::Privileges;
use crate::teleport::models::{Role, RoleConditions, User};

/// The key resources are counted under when they carry no `env` label.
pub const NO_ENV: &str = "(no env label)";

/// The kinds of resource a role's label selectors reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    Node,
    Database,
    KubeCluster,
    App,
    McpServer,
    WindowsDesktop,
}

impl TargetKind {
    /// The kind's name in a resource id (`/<cluster>/<kind>/<name>`).
    fn resource_kind(self) -> &'static str {
        match self {
            Self::Node => "node",
            Self::Database => "db",
            Self::KubeCluster => "kube_cluster",
            Self::App | Self::McpServer => "app",
            Self::WindowsDesktop => "windows_desktop",
        }
    }

    /// The role condition that selects this kind (MCP servers are apps).
    fn selector(self, c: &RoleConditions) -> &BTreeMap<String, Vec<String>> {
        match self {
            Self::Node => &c.node_labels,
            Self::Database => &c.db_labels,
            Self::KubeCluster => &c.kubernetes_labels,
            Self::App | Self::McpServer => &c.app_labels,
            Self::WindowsDesktop => &c.windows_desktop_labels,
        }
    }
}

/// One resource of the cluster, as the blast radius sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub kind: TargetKind,
    /// `metadata.name` (a UUID for nodes).
    pub name: String,
    /// Another name a resource id may use (a node's hostname).
    pub alias: Option<String>,
    pub labels: BTreeMap<String, String>,
}

/// How many of one kind, by `env` label.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ByEnv {
    pub total: usize,
    pub by_env: BTreeMap<String, usize>,
}

impl ByEnv {
    fn add(&mut self, target: &Target) {
        self.total += 1;
        let env = target.labels.get("env").map_or(NO_ENV, String::as_str);
        *self.by_env.entry(env.to_owned()).or_default() += 1;
    }
}

/// A requested role that is admin-equivalent, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AdminEquivalent {
    pub role: String,
    pub reasons: Vec<String>,
}

/// What an access request would make reachable.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BlastRadius {
    /// The requested roles the cluster has.
    pub roles: Vec<String>,
    /// The requested resource ids the cluster has.
    pub resources: Vec<String>,
    /// Requested names that are neither a role nor a resource of the cluster.
    pub unknown: Vec<String>,
    pub nodes: ByEnv,
    pub databases: ByEnv,
    pub kube_clusters: ByEnv,
    pub apps: ByEnv,
    pub mcp_servers: ByEnv,
    pub windows_desktops: ByEnv,
    /// SSH logins the requested roles allow (templates are resolved per requester).
    pub logins: Vec<String>,
    /// MCP tool patterns the requested roles allow.
    pub mcp_tools: Vec<String>,
    /// Requested roles that are admin-equivalent by the `scan_rbac` rules.
    pub admin_equivalent: Vec<AdminEquivalent>,
    /// What the counts could not take into account.
    pub notes: Vec<String>,
}

/// Compute the blast radius of requesting `requested` (role names and/or resource ids).
pub fn blast_radius(requested: &[String], roles: &[Role], users: &[User], targets: &[Target]) -> BlastRadius {
    let mut out = BlastRadius::default();
    let mut chosen: Vec<&Role> = Vec::new();
    let mut direct: Vec<&Target> = Vec::new();
    for name in requested {
        if let Some(role) = roles.iter().find(|r| &r.metadata.name == name) {
            chosen.push(role);
            out.roles.push(name.clone());
        } else if let Some(target) = resource(name, targets) {
            direct.push(target);
            out.resources.push(name.clone());
        } else {
            out.unknown.push(name.clone());
        }
    }
    let mut reached: BTreeSet<(TargetKind, &str)> = BTreeSet::new();
    for target in targets {
        let allowed = chosen.iter().any(|r| matches_labels(target.kind.selector(&r.spec.allow), &target.labels));
        let denied = chosen.iter().any(|r| matches_labels(target.kind.selector(&r.spec.deny), &target.labels));
        if allowed && !denied {
            reached.insert((target.kind, &target.name));
        }
    }
    for target in &direct {
        reached.insert((target.kind, &target.name));
    }
    for target in targets.iter().filter(|t| reached.contains(&(t.kind, t.name.as_str()))) {
        let bucket = match target.kind {
            TargetKind::Node => &mut out.nodes,
            TargetKind::Database => &mut out.databases,
            TargetKind::KubeCluster => &mut out.kube_clusters,
            TargetKind::App => &mut out.apps,
            TargetKind::McpServer => &mut out.mcp_servers,
            TargetKind::WindowsDesktop => &mut out.windows_desktops,
        };
        bucket.add(target);
    }
    conditions(&chosen, &mut out);
    let privileges = Privileges::build(roles, users);
    for role in &chosen {
        let reasons = privileges.admin_reasons(&role.metadata.name);
        if !reasons.is_empty() {
            out.admin_equivalent.push(AdminEquivalent { role: role.metadata.name.clone(), reasons });
        }
    }
    out
}

/// Logins, MCP tools and what the label counts leave out.
fn conditions(chosen: &[&Role], out: &mut BlastRadius) {
    let denied: BTreeSet<&str> = chosen.iter().flat_map(|r| r.spec.deny.logins.iter().map(String::as_str)).collect();
    let logins: BTreeSet<&str> = chosen
        .iter()
        .flat_map(|r| r.spec.allow.logins.iter().map(String::as_str))
        .filter(|l| !denied.contains(l))
        .collect();
    out.logins = logins.iter().map(|l| (*l).to_owned()).collect();
    let tools: BTreeSet<&str> = chosen
        .iter()
        .filter_map(|r| r.spec.allow.mcp.as_ref())
        .flat_map(|m| m.tools.iter().map(String::as_str))
        .collect();
    out.mcp_tools = tools.iter().map(|t| (*t).to_owned()).collect();
    if logins.iter().any(|l| trait_name(l).is_some()) {
        out.notes.push("some logins are trait templates: the requester's traits decide them".to_owned());
    }
    let templated = chosen.iter().any(|r| {
        let c = &r.spec.allow;
        [&c.node_labels, &c.db_labels, &c.kubernetes_labels, &c.app_labels, &c.windows_desktop_labels]
            .iter()
            .any(|sel| sel.values().flatten().any(|v| v.contains("{{")))
    });
    if templated {
        out.notes.push(
            "some label selectors are trait templates: matches depending on the requester's traits are not counted"
                .to_owned(),
        );
    }
    if chosen.iter().any(|r| !r.spec.allow.node_labels_expression.is_empty()) {
        out.notes.push("node_labels_expression predicates are not evaluated: node counts may be low".to_owned());
    }
}

/// The target a resource id names: `/<cluster>/<kind>/<name>` (a node by UUID or hostname); a
/// Kubernetes resource (`/<cluster>/kube:ns:<plural>/<kube_cluster>/…`, `kube:cw:…`) reaches into
/// its Kubernetes cluster, which is what it counts as.
fn resource<'a>(id: &str, targets: &'a [Target]) -> Option<&'a Target> {
    let mut parts = id.strip_prefix('/')?.splitn(3, '/');
    let (_cluster, kind, name) = (parts.next()?, parts.next()?, parts.next()?);
    let (kind, name) = match kind.strip_prefix("kube:") {
        Some(_) => ("kube_cluster", name.split('/').next()?),
        None => (kind, name),
    };
    targets.iter().find(|t| t.kind.resource_kind() == kind && (t.name == name || t.alias.as_deref() == Some(name)))
}

/// Teleport's `MatchLabels`.
pub fn matches_labels(selector: &BTreeMap<String, Vec<String>>, labels: &BTreeMap<String, String>) -> bool {
    if selector.is_empty() {
        return false;
    }
    if selector.get("*").is_some_and(|v| v.len() == 1 && v[0] == "*") {
        return true;
    }
    selector.iter().all(|(key, values)| match labels.get(key) {
        None => false,
        Some(value) => values.iter().any(|pattern| !pattern.contains("{{") && role_matches(pattern, value)),
    })
}

#[cfg(test)]
#[path = "blast_tests.rs"]
mod tests;
