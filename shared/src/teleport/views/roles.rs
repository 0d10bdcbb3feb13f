//! Views of roles: allow/deny summaries and the security-relevant options.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::seconds;
use crate::teleport::models::{Role, RoleConditions, Rule};

/// The roles defined in the cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RoleList {
    /// Number of roles.
    pub count: usize,
    /// The roles, sorted by name.
    pub roles: Vec<RoleView>,
}

/// One role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RoleView {
    /// Role name.
    pub name: String,
    /// Description, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Role version (`v3` … `v8`).
    pub version: String,
    /// What the role grants (empty lists are omitted).
    pub allow: ConditionsView,
    /// What the role forbids; deny always wins over allow.
    pub deny: ConditionsView,
    /// Session options.
    pub options: RoleOptionsView,
}

/// A summary of an allow or deny block. Empty fields are omitted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ConditionsView {
    /// SSH logins (may be traits such as `{{internal.logins}}`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub logins: Vec<String>,
    /// Node label selectors as `key=value` (`*=*` means every node).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub node_labels: Vec<String>,
    /// Application label selectors as `key=value`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub app_labels: Vec<String>,
    /// Database label selectors as `key=value`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub db_labels: Vec<String>,
    /// Kubernetes cluster label selectors as `key=value`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kubernetes_labels: Vec<String>,
    /// Kubernetes groups.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kubernetes_groups: Vec<String>,
    /// Database users.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub db_users: Vec<String>,
    /// API rules as `resource1,resource2:verb1,verb2` (plus ` where <predicate>` when narrowed).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
    /// Users that may be impersonated.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub impersonate_users: Vec<String>,
    /// Roles that may be impersonated.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub impersonate_roles: Vec<String>,
    /// Roles that may be requested through access requests.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub request_roles: Vec<String>,
    /// Roles used to search resources for resource access requests.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub request_search_as_roles: Vec<String>,
    /// Roles whose access requests may be reviewed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub review_roles: Vec<String>,
    /// MCP tools (names, globs, regexes).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mcp_tools: Vec<String>,
}

/// Security-relevant role options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RoleOptionsView {
    /// Longest certificate lifetime for users of the role, in seconds.
    pub max_session_ttl_seconds: Option<u64>,
    /// Per-session MFA: `off`, `session`, or a `hardware_key*` mode.
    pub require_session_mfa: String,
    /// SSH agent forwarding allowed.
    pub forward_agent: bool,
}

impl RoleList {
    /// Builds the view.
    pub fn build(roles: &[Role]) -> RoleList {
        let mut roles: Vec<RoleView> = roles.iter().map(RoleView::build).collect();
        roles.sort_by(|a, b| a.name.cmp(&b.name));
        RoleList { count: roles.len(), roles }
    }
}

impl RoleView {
    /// Builds the view of one role.
    pub fn build(role: &Role) -> RoleView {
        let options = &role.spec.options;
        RoleView {
            name: role.metadata.name.clone(),
            description: Some(role.metadata.description.clone()).filter(|d| !d.is_empty()),
            version: role.version.clone(),
            allow: ConditionsView::build(&role.spec.allow),
            deny: ConditionsView::build(&role.spec.deny),
            options: RoleOptionsView {
                max_session_ttl_seconds: seconds(options.max_session_ttl),
                require_session_mfa: options.require_session_mfa.to_string(),
                forward_agent: options.forward_agent,
            },
        }
    }
}

impl ConditionsView {
    /// Summarises one condition block.
    pub fn build(c: &RoleConditions) -> ConditionsView {
        let request = c.request.clone().unwrap_or_default();
        let impersonate = c.impersonate.clone().unwrap_or_default();
        ConditionsView {
            logins: c.logins.clone(),
            node_labels: label_pairs(&c.node_labels),
            app_labels: label_pairs(&c.app_labels),
            db_labels: label_pairs(&c.db_labels),
            kubernetes_labels: label_pairs(&c.kubernetes_labels),
            kubernetes_groups: c.kubernetes_groups.clone(),
            db_users: c.db_users.clone(),
            rules: c.rules.iter().map(rule_text).collect(),
            impersonate_users: impersonate.users,
            impersonate_roles: impersonate.roles,
            request_roles: request.roles,
            request_search_as_roles: request.search_as_roles,
            review_roles: c.review_requests.as_ref().map(|r| r.roles.clone()).unwrap_or_default(),
            mcp_tools: c.mcp.as_ref().map(|m| m.tools.clone()).unwrap_or_default(),
        }
    }
}

fn label_pairs(labels: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    labels.iter().flat_map(|(k, values)| values.iter().map(move |v| format!("{k}={v}"))).collect()
}

/// `res1,res2:verb1,verb2`, the way `tctl get roles --format=text` prints rules.
fn rule_text(rule: &Rule) -> String {
    let mut text = format!("{}:{}", rule.resources.join(","), rule.verbs.join(","));
    if !rule.where_clause.is_empty() {
        text.push_str(" where ");
        text.push_str(&rule.where_clause);
    }
    text
}
