//! Role conditions (`RoleConditions`): the `allow` and `deny` blocks of a role, with rules,
//! label selectors, impersonation and access-request grants.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use super::de;

/// `RoleConditions`: the same shape for `allow` and `deny`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct RoleConditions {
    /// SSH logins (may contain traits such as `{{internal.logins}}`).
    #[serde(deserialize_with = "de::string_list")]
    pub logins: Vec<String>,
    /// Node label selectors (`"*": "*"` = every node).
    #[serde(deserialize_with = "de::label_map")]
    pub node_labels: BTreeMap<String, Vec<String>>,
    /// Node label predicate expression.
    #[serde(deserialize_with = "de::lenient_string")]
    pub node_labels_expression: String,
    /// API rules.
    #[serde(deserialize_with = "de::nullable")]
    pub rules: Vec<Rule>,
    /// Application label selectors.
    #[serde(deserialize_with = "de::label_map")]
    pub app_labels: BTreeMap<String, Vec<String>>,
    /// Application label predicate expression.
    #[serde(deserialize_with = "de::lenient_string")]
    pub app_labels_expression: String,
    /// Database label selectors.
    #[serde(deserialize_with = "de::label_map")]
    pub db_labels: BTreeMap<String, Vec<String>>,
    /// Database service label selectors.
    #[serde(deserialize_with = "de::label_map")]
    pub db_service_labels: BTreeMap<String, Vec<String>>,
    /// Kubernetes cluster label selectors.
    #[serde(deserialize_with = "de::label_map")]
    pub kubernetes_labels: BTreeMap<String, Vec<String>>,
    /// Trusted (leaf) cluster label selectors.
    #[serde(deserialize_with = "de::label_map")]
    pub cluster_labels: BTreeMap<String, Vec<String>>,
    /// Windows desktop label selectors.
    #[serde(deserialize_with = "de::label_map")]
    pub windows_desktop_labels: BTreeMap<String, Vec<String>>,
    /// Windows desktop logins.
    #[serde(deserialize_with = "de::string_list")]
    pub windows_desktop_logins: Vec<String>,
    /// Kubernetes groups.
    #[serde(deserialize_with = "de::string_list")]
    pub kubernetes_groups: Vec<String>,
    /// Kubernetes users.
    #[serde(deserialize_with = "de::string_list")]
    pub kubernetes_users: Vec<String>,
    /// Kubernetes resources (v7+).
    #[serde(deserialize_with = "de::nullable")]
    pub kubernetes_resources: Vec<KubernetesResource>,
    /// Database names.
    #[serde(deserialize_with = "de::string_list")]
    pub db_names: Vec<String>,
    /// Database users.
    #[serde(deserialize_with = "de::string_list")]
    pub db_users: Vec<String>,
    /// Database roles.
    #[serde(deserialize_with = "de::string_list")]
    pub db_roles: Vec<String>,
    /// AWS role ARNs.
    #[serde(deserialize_with = "de::string_list")]
    pub aws_role_arns: Vec<String>,
    /// Azure identities.
    #[serde(deserialize_with = "de::string_list")]
    pub azure_identities: Vec<String>,
    /// GCP service accounts.
    #[serde(deserialize_with = "de::string_list")]
    pub gcp_service_accounts: Vec<String>,
    /// Host groups for automatic user creation.
    #[serde(deserialize_with = "de::string_list")]
    pub host_groups: Vec<String>,
    /// Sudoers entries for automatic user creation.
    #[serde(deserialize_with = "de::string_list")]
    pub host_sudoers: Vec<String>,
    /// Impersonation grants.
    #[serde(deserialize_with = "de::nullable")]
    pub impersonate: Option<ImpersonateConditions>,
    /// Access requests the role may make.
    #[serde(deserialize_with = "de::nullable")]
    pub request: Option<AccessRequestConditions>,
    /// Access requests the role may review.
    #[serde(deserialize_with = "de::nullable")]
    pub review_requests: Option<AccessReviewConditions>,
    /// Session join policies, raw.
    #[serde(deserialize_with = "de::nullable")]
    pub join_sessions: Vec<serde_json::Value>,
    /// Moderated-session requirements, raw.
    #[serde(deserialize_with = "de::nullable")]
    pub require_session_join: Vec<serde_json::Value>,
    /// MCP tool names/globs/regexes (18.1+).
    #[serde(deserialize_with = "de::nullable")]
    pub mcp: Option<McpConditions>,
}

/// An API rule: `resources` × `verbs`, optionally narrowed by `where`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Rule {
    /// Resource kinds (`*` = all).
    #[serde(deserialize_with = "de::string_list")]
    pub resources: Vec<String>,
    /// Verbs (`*` = all).
    #[serde(deserialize_with = "de::string_list")]
    pub verbs: Vec<String>,
    /// Predicate narrowing the rule.
    #[serde(rename = "where", deserialize_with = "de::lenient_string")]
    pub where_clause: String,
    /// Actions run when the rule matches.
    #[serde(deserialize_with = "de::string_list")]
    pub actions: Vec<String>,
}

/// A Kubernetes resource selector.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct KubernetesResource {
    /// Kind (`pods`, `*`, …).
    #[serde(deserialize_with = "de::lenient_string")]
    pub kind: String,
    /// Namespace pattern.
    #[serde(deserialize_with = "de::lenient_string")]
    pub namespace: String,
    /// Name pattern.
    #[serde(deserialize_with = "de::lenient_string")]
    pub name: String,
    /// Verbs.
    #[serde(deserialize_with = "de::string_list")]
    pub verbs: Vec<String>,
    /// API group.
    #[serde(deserialize_with = "de::lenient_string")]
    pub api_group: String,
}

/// `impersonate`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ImpersonateConditions {
    /// Users that may be impersonated.
    #[serde(deserialize_with = "de::string_list")]
    pub users: Vec<String>,
    /// Roles that may be impersonated.
    #[serde(deserialize_with = "de::string_list")]
    pub roles: Vec<String>,
    /// Predicate.
    #[serde(rename = "where", deserialize_with = "de::lenient_string")]
    pub where_clause: String,
}

/// `request`: what the role may request.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct AccessRequestConditions {
    /// Roles that may be requested.
    #[serde(deserialize_with = "de::string_list")]
    pub roles: Vec<String>,
    /// Roles used for resource search (resource requests).
    #[serde(deserialize_with = "de::string_list")]
    pub search_as_roles: Vec<String>,
    /// Claim-to-role mappings.
    #[serde(deserialize_with = "de::nullable")]
    pub claims_to_roles: Vec<ClaimMapping>,
    /// Approval thresholds, raw.
    #[serde(deserialize_with = "de::nullable")]
    pub thresholds: Vec<serde_json::Value>,
    /// Suggested reviewers.
    #[serde(deserialize_with = "de::string_list")]
    pub suggested_reviewers: Vec<String>,
    /// Longest access a request may grant.
    #[serde(deserialize_with = "de::go_duration")]
    pub max_duration: Option<Duration>,
    /// Kubernetes resource kinds that may be requested, raw.
    #[serde(deserialize_with = "de::nullable")]
    pub kubernetes_resources: Vec<serde_json::Value>,
}

/// `review_requests`: what the role may review.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct AccessReviewConditions {
    /// Roles whose requests may be reviewed.
    #[serde(deserialize_with = "de::string_list")]
    pub roles: Vec<String>,
    /// Claim-to-role mappings.
    #[serde(deserialize_with = "de::nullable")]
    pub claims_to_roles: Vec<ClaimMapping>,
    /// Predicate.
    #[serde(rename = "where", deserialize_with = "de::lenient_string")]
    pub where_clause: String,
    /// Roles whose resources reviewers may preview.
    #[serde(deserialize_with = "de::string_list")]
    pub preview_as_roles: Vec<String>,
}

/// A claim-to-roles mapping.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ClaimMapping {
    /// Claim name.
    #[serde(deserialize_with = "de::lenient_string")]
    pub claim: String,
    /// Claim value.
    #[serde(deserialize_with = "de::lenient_string")]
    pub value: String,
    /// Roles granted.
    #[serde(deserialize_with = "de::string_list")]
    pub roles: Vec<String>,
}

/// `mcp`: MCP tool permissions.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct McpConditions {
    /// Tool names, globs, regexes or traits.
    #[serde(deserialize_with = "de::string_list")]
    pub tools: Vec<String>,
}
