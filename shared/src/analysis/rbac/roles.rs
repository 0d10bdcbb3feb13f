//! Rules about one role: wildcard API rules, root on every node, impersonation, unguarded access
//! requests, review rights, and session options (per-session MFA, TTL, agent forwarding).

use std::time::Duration;

use serde_json::json;

use super::privilege::{Privileges, RootLogin, denies};
use super::{Finding, RuleId, SubjectKind};
use crate::analysis::Severity;
use crate::teleport::duration::format_go_duration;
use crate::teleport::models::{AuthPreference, Role, Rule};

const WILDCARD_RULES: RuleId = RuleId::new("RBAC-001", "wildcard-rules");
const ROOT_ON_ALL_NODES: RuleId = RuleId::new("RBAC-002", "wildcard-nodes-root-login");
const IMPERSONATION: RuleId = RuleId::new("RBAC-003", "impersonation");
const UNGUARDED_REQUESTS: RuleId = RuleId::new("RBAC-004", "unguarded-privileged-requests");
const PRIVILEGED_REVIEWS: RuleId = RuleId::new("RBAC-005", "review-privileged-requests");
const NO_SESSION_MFA: RuleId = RuleId::new("RBAC-008", "privileged-role-without-session-mfa");
const LONG_SESSION_TTL: RuleId = RuleId::new("RBAC-009", "long-session-ttl");
const FORWARD_AGENT: RuleId = RuleId::new("RBAC-010", "forward-agent-on-privileged-role");

/// Resources where `*` verbs are as bad as a wildcard resource (identity, trust and auth settings).
const HIGH_IMPACT_RESOURCES: &[&str] = &[
    "role",
    "user",
    "token",
    "cluster_auth_preference",
    "cert_authority",
    "auth_connector",
    "oidc",
    "saml",
    "github",
    "bot",
    "trusted_cluster",
    "lock",
    "access_list",
    "device",
];
/// `max_session_ttl` above this is medium.
const TTL_MEDIUM_ABOVE: Duration = Duration::from_secs(12 * 3600);
/// `max_session_ttl` above this is high (Teleport's presets use exactly 30h).
const TTL_HIGH_ABOVE: Duration = Duration::from_secs(30 * 3600);

/// Runs every role rule on one role.
pub(crate) fn scan_role(role: &Role, p: &Privileges, auth: &AuthPreference) -> Vec<Finding> {
    let name = role.metadata.name.as_str();
    let mut out = Vec::new();
    out.extend(wildcard_rules(role));
    out.extend(root_on_all_nodes(role, p));
    out.extend(impersonation(role, p));
    out.extend(unguarded_requests(role, p));
    out.extend(privileged_reviews(role, p));
    out.extend(long_session_ttl(role));
    let privileged = p.privileged_reasons(name);
    if !privileged.is_empty() {
        let options = &role.spec.options;
        if !auth.spec.require_session_mfa.is_required() && !options.require_session_mfa.is_required() {
            out.push(NO_SESSION_MFA.finding(
                Severity::High,
                (SubjectKind::Role, name),
                format!("Privileged role {name} does not require per-session MFA, and the cluster does not either"),
                json!({ "role_require_session_mfa": options.require_session_mfa.to_string(),
                        "cluster_require_session_mfa": auth.spec.require_session_mfa.to_string(),
                        "privileged_because": privileged }),
                "Set options.require_session_mfa: true (or hardware_key_touch) on the role, or cluster-wide in cluster_auth_preference.",
            ));
        }
        if options.forward_agent {
            out.push(FORWARD_AGENT.finding(
                Severity::High,
                (SubjectKind::Role, name),
                format!("Privileged role {name} forwards the SSH agent to nodes"),
                json!({ "forward_agent": true, "privileged_because": privileged }),
                "Set options.forward_agent: false; use tsh ssh -J or Teleport's own hops instead of agent forwarding.",
            ));
        }
    }
    out
}

fn rule_json(r: &Rule) -> serde_json::Value {
    let mut v = json!({ "resources": r.resources, "verbs": r.verbs });
    if !r.where_clause.is_empty() {
        v["where"] = json!(r.where_clause);
    }
    v
}

fn wildcard_rules(role: &Role) -> Option<Finding> {
    let (allow, deny) = (&role.spec.allow, &role.spec.deny);
    if denies(&deny.rules, "*", "*") {
        return None; // deny *:* wins: the allow rules grant nothing
    }
    let wild = |l: &[String]| l.iter().any(|x| x == "*");
    let severity_of = |r: &Rule| match (wild(&r.resources), wild(&r.verbs)) {
        (true, true) => Some(Severity::Critical),
        (true, _) => Some(Severity::High),
        (false, true) if r.resources.iter().any(|x| HIGH_IMPACT_RESOURCES.contains(&x.as_str())) => {
            Some(Severity::High)
        }
        (false, true) => Some(Severity::Medium),
        (false, false) => None,
    };
    let hits: Vec<(Severity, &Rule)> = allow.rules.iter().filter_map(|r| severity_of(r).map(|s| (s, r))).collect();
    let severity = hits.iter().map(|(s, _)| *s).min()?;
    let name = role.metadata.name.as_str();
    let title = if severity == Severity::Critical {
        format!("Role {name} grants every verb on every resource (rule *:*)")
    } else {
        format!("Role {name} has allow rules with wildcard resources or verbs")
    };
    Some(WILDCARD_RULES.finding(
        severity,
        (SubjectKind::Role, name),
        title,
        json!({ "rules": hits.iter().map(|(_, r)| rule_json(r)).collect::<Vec<_>>() }),
        "Replace '*' with the explicit resources and verbs the role needs (start from the preset editor/auditor roles).",
    ))
}

fn root_on_all_nodes(role: &Role, p: &Privileges) -> Option<Finding> {
    let name = role.metadata.name.as_str();
    let facts = p.facts(name)?;
    if !facts.wildcard_nodes {
        return None;
    }
    let (severity, via, users) = match &facts.root_login {
        RootLogin::None => return None,
        RootLogin::Literal => (Severity::Critical, "literal", Vec::new()),
        RootLogin::Traits(users) => (Severity::High, "traits", users.clone()),
    };
    Some(ROOT_ON_ALL_NODES.finding(
        severity,
        (SubjectKind::Role, name),
        format!("Role {name} allows root logins on every node (node_labels '*': '*')"),
        json!({ "node_labels": { "*": ["*"] }, "logins": role.spec.allow.logins,
                "root_via": via, "users_with_root_trait": users }),
        "Narrow node_labels to the environments needed and drop root from logins (or from users' logins traits); use sudo with audit instead.",
    ))
}

fn impersonation(role: &Role, p: &Privileges) -> Option<Finding> {
    let imp = role.spec.allow.impersonate.as_ref().filter(|i| !i.users.is_empty() || !i.roles.is_empty())?;
    let deny_roles = role.spec.deny.impersonate.as_ref().map(|i| i.roles.clone()).unwrap_or_default();
    let admin_roles = p.admin_targets(&imp.roles, &deny_roles);
    let any = imp.users.iter().chain(&imp.roles).any(|x| x == "*");
    let severity = if any || !admin_roles.is_empty() { Severity::Critical } else { Severity::High };
    let name = role.metadata.name.as_str();
    Some(IMPERSONATION.finding(
        severity,
        (SubjectKind::Role, name),
        format!("Role {name} may impersonate other users or roles"),
        json!({ "users": imp.users, "roles": imp.roles, "where": imp.where_clause, "admin_equivalent_roles": admin_roles }),
        "Restrict impersonate to the specific bot or service users and roles needed, with a where clause; never '*'.",
    ))
}

fn unguarded_requests(role: &Role, p: &Privileges) -> Option<Finding> {
    let req = role.spec.allow.request.as_ref()?;
    if !req.thresholds.is_empty() {
        return None;
    }
    let mut allow: Vec<String> = req.roles.iter().chain(&req.search_as_roles).cloned().collect();
    allow.extend(req.claims_to_roles.iter().flat_map(|c| c.roles.iter().cloned()));
    let deny = role.spec.deny.request.as_ref().map(|d| [d.roles.clone(), d.search_as_roles.clone()].concat());
    let targets = p.admin_targets(&allow, &deny.unwrap_or_default());
    if targets.is_empty() {
        return None;
    }
    let name = role.metadata.name.as_str();
    Some(UNGUARDED_REQUESTS.finding(
        Severity::High,
        (SubjectKind::Role, name),
        format!("Role {name} may request admin-equivalent roles without approval thresholds"),
        json!({ "requestable_admin_roles": targets, "request_roles": req.roles, "search_as_roles": req.search_as_roles,
                "thresholds": [], "suggested_reviewers": req.suggested_reviewers }),
        "Add request.thresholds (e.g. approve: 2, deny: 1) and suggested_reviewers for admin-equivalent roles, or stop offering them.",
    ))
}

fn privileged_reviews(role: &Role, p: &Privileges) -> Option<Finding> {
    let review = role.spec.allow.review_requests.as_ref()?;
    let deny = role.spec.deny.review_requests.as_ref().map(|d| d.roles.clone()).unwrap_or_default();
    let targets = p.admin_targets(&review.roles, &deny);
    if targets.is_empty() {
        return None;
    }
    let name = role.metadata.name.as_str();
    Some(PRIVILEGED_REVIEWS.finding(
        Severity::Medium,
        (SubjectKind::Role, name),
        format!("Role {name} may approve requests for admin-equivalent roles"),
        json!({ "reviewable_admin_roles": targets, "review_roles": review.roles, "where": review.where_clause }),
        "Limit review_requests.roles to non-admin roles or hold it only in a small approver group; require thresholds of 2 for admin roles.",
    ))
}

fn long_session_ttl(role: &Role) -> Option<Finding> {
    let ttl = role.spec.options.max_session_ttl?;
    let severity = if ttl > TTL_HIGH_ABOVE {
        Severity::High
    } else if ttl > TTL_MEDIUM_ABOVE {
        Severity::Medium
    } else {
        return None;
    };
    let name = role.metadata.name.as_str();
    Some(LONG_SESSION_TTL.finding(
        severity,
        (SubjectKind::Role, name),
        format!("Role {name} issues certificates valid for {}", format_go_duration(ttl)),
        json!({ "max_session_ttl": format_go_duration(ttl), "max_session_ttl_seconds": ttl.as_secs() }),
        "Set options.max_session_ttl to 12h or less (8h for privileged roles).",
    ))
}
