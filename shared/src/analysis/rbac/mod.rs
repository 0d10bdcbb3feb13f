//! The RBAC scan behind `scan_rbac`: roles, users, the cluster auth preference and join tokens in,
//! a sorted list of findings (MCP access rules included) with evidence and a one-line remediation
//! out. Rules and their severities are documented in `docs/rbac-rules.md`; each rule lives in one
//! of the sub-modules.

mod cluster;
mod mcp;
pub(crate) mod pattern;
pub(crate) mod privilege;
mod roles;
mod users;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Severity, SeverityCounts};
use crate::teleport::models::{AuthPreference, ProvisionToken, Role, User};
use privilege::Privileges;

/// Result of an RBAC scan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RbacReport {
    /// Findings, most severe first, then by subject and rule id.
    pub findings: Vec<Finding>,
    /// Number of findings per severity.
    pub summary: SeverityCounts,
    /// Number of roles examined.
    pub roles_scanned: usize,
    /// Number of users examined.
    pub users_scanned: usize,
    /// Roles that are admin-equivalent (full API access, or write access to roles, users, join
    /// tokens or the auth preference), sorted by name.
    pub admin_equivalent_roles: Vec<String>,
}

/// One problem found by a rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Finding {
    /// Stable rule id, e.g. `RBAC-001`; see `docs/rbac-rules.md`.
    pub id: String,
    /// Short rule name, e.g. `wildcard-rules`.
    pub rule: String,
    /// How serious the finding is.
    pub severity: Severity,
    /// Kind of the subject: `role`, `user`, `auth_preference` or `token`.
    pub subject_kind: SubjectKind,
    /// Name of the subject. Secret join-token names are masked (`****…abcd`), never returned in clear.
    pub subject: String,
    /// One-sentence description of the problem.
    pub title: String,
    /// The offending fields and their values.
    pub evidence: serde_json::Value,
    /// One actionable line saying how to fix it.
    pub remediation: String,
}

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    /// A role.
    Role,
    /// A user.
    User,
    /// The cluster authentication preference.
    AuthPreference,
    /// A join token.
    Token,
}

/// A rule: stable id and short name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RuleId {
    id: &'static str,
    name: &'static str,
}

impl RuleId {
    pub(crate) const fn new(id: &'static str, name: &'static str) -> RuleId {
        RuleId { id, name }
    }

    /// Builds a finding of this rule.
    pub(crate) fn finding(
        self,
        severity: Severity,
        subject: (SubjectKind, &str),
        title: String,
        evidence: serde_json::Value,
        remediation: &str,
    ) -> Finding {
        Finding {
            id: self.id.to_owned(),
            rule: self.name.to_owned(),
            severity,
            subject_kind: subject.0,
            subject: subject.1.to_owned(),
            title,
            evidence,
            remediation: remediation.to_owned(),
        }
    }
}

/// Scans roles, users, the auth preference and join tokens. `now` decides lock, expiry and token
/// lifetimes. Pure: the same inputs always give the same report.
pub fn scan(
    roles: &[Role],
    users: &[User],
    auth: &AuthPreference,
    tokens: &[ProvisionToken],
    now: DateTime<Utc>,
) -> RbacReport {
    let privileges = Privileges::build(roles, users);
    let mut findings = Vec::new();
    for role in roles {
        findings.extend(roles::scan_role(role, &privileges, auth));
        findings.extend(mcp::scan_role(role, &privileges, users));
    }
    for user in users {
        findings.extend(users::scan_user(user, &privileges, now));
    }
    findings.extend(cluster::scan_auth_preference(auth));
    findings.extend(tokens.iter().filter_map(|t| cluster::scan_token(t, now)));
    findings.sort_by(|a, b| {
        (a.severity, &a.subject, &a.id, a.subject_kind).cmp(&(b.severity, &b.subject, &b.id, b.subject_kind))
    });
    RbacReport {
        summary: SeverityCounts::count(findings.iter().map(|f| f.severity)),
        findings,
        roles_scanned: roles.len(),
        users_scanned: users.len(),
        admin_equivalent_roles: privileges.admin_role_names(),
    }
}
