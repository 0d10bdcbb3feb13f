//! MCP access rules (Teleport 18): wildcard `mcp.tools`, MCP servers reached through wildcard
//! `app_labels`, MCP tools on admin-equivalent roles, and deny entries that do not deny what they
//! seem to. Tool names are matched as Teleport matches them (`lib/utils/replace.go`
//! `SliceMatchesRegex`: `*` alone, a glob whose only wildcard is `*`, or a regex only when it both
//! starts with `^` and ends with `$`; case-sensitive), which is what [`role_matches`] implements.

use std::collections::BTreeMap;

use regex::Regex;
use serde_json::json;

use super::pattern::{role_matches, trait_name};
use super::privilege::Privileges;
use super::{Finding, RuleId, SubjectKind};
use crate::analysis::Severity;
use crate::teleport::models::{Role, RoleConditions, User};

const WILDCARD_TOOLS: RuleId = RuleId::new("RBAC-015", "mcp-wildcard-tools");
const WILDCARD_SERVERS: RuleId = RuleId::new("RBAC-016", "mcp-servers-via-wildcard-app-labels");
const ADMIN_WITH_TOOLS: RuleId = RuleId::new("RBAC-017", "mcp-tools-on-admin-role");
const DENY_NEVER_MATCHES: RuleId = RuleId::new("RBAC-018", "mcp-deny-tools-never-match");
const DENY_TOOLS_ONLY: RuleId = RuleId::new("RBAC-019", "mcp-deny-tools-leaves-server-reachable");

/// Tool names of every shape: a pattern matching all of them is a catch-all.
const PROBES: &[&str] = &["a", "Z", "0", "delete_all_files", "Slack.Post-Message", "tool/with spaces", "x\u{e9}"];
/// Characters that make an entry look like a regular expression (`*` alone is a glob wildcard).
const REGEX_HINTS: &[&str] = &[".*", ".+", "|", "(", ")", "[", "]", "\\", "+", "?", "{"];

/// Runs every MCP rule on one role; `users` resolve tool templates such as `{{internal.mcp_tools}}`.
pub(crate) fn scan_role(role: &Role, p: &Privileges, users: &[User]) -> Vec<Finding> {
    let mut out = Vec::new();
    out.extend(wildcard_tools(role, users));
    out.extend(wildcard_servers(role));
    out.extend(admin_with_tools(role, p));
    out.extend(deny_never_matches(role));
    out.extend(deny_tools_only(role));
    out
}

fn tools(c: &RoleConditions) -> &[String] {
    c.mcp.as_ref().map(|m| m.tools.as_slice()).unwrap_or_default()
}

/// A template such as `{{internal.mcp_tools}}`: its value comes from user traits.
fn is_template(entry: &str) -> bool {
    entry.contains("{{")
}

/// Whether `entry` matches every tool name (`*`, `**`, `^.*$`, `^(.*)$`…).
fn catch_all(entry: &str) -> bool {
    !is_template(entry) && PROBES.iter().all(|name| role_matches(entry, name))
}

/// Allow entries, unless a deny catch-all cancels them all.
fn granted_tools(role: &Role) -> &[String] {
    let (allow, deny) = (tools(&role.spec.allow), tools(&role.spec.deny));
    if deny.iter().any(|d| catch_all(d)) { &[] } else { allow }
}

/// `app_labels` entries with a wildcard key or value (`'*': '*'` selects every app).
fn wildcard_labels(c: &RoleConditions) -> BTreeMap<String, Vec<String>> {
    c.app_labels
        .iter()
        .filter(|(k, values)| k.as_str() == "*" || values.iter().any(|v| v == "*" || catch_all(v)))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The role selects some applications (and so maybe MCP servers).
fn reaches_apps(c: &RoleConditions) -> bool {
    !c.app_labels.is_empty() || !c.app_labels_expression.trim().is_empty()
}

fn every_app(c: &RoleConditions) -> bool {
    c.app_labels.get("*").is_some_and(|values| values.iter().any(|v| v == "*"))
}

/// Holders of the role whose trait behind a tool template holds a catch-all, sorted.
fn wildcard_trait_holders(role: &Role, granted: &[String], users: &[User]) -> Vec<String> {
    let traits: Vec<&str> = granted.iter().filter_map(|t| trait_name(t)).collect();
    let name = role.metadata.name.as_str();
    let mut holders: Vec<String> = users
        .iter()
        .filter(|u| u.spec.roles.iter().any(|r| r == name))
        .filter(|u| traits.iter().any(|t| u.spec.traits.get(*t).is_some_and(|v| v.iter().any(|x| catch_all(x)))))
        .map(|u| u.metadata.name.clone())
        .collect();
    holders.sort();
    holders.dedup();
    holders
}

fn wildcard_tools(role: &Role, users: &[User]) -> Option<Finding> {
    let granted = granted_tools(role);
    let wild: Vec<&String> = granted.iter().filter(|t| catch_all(t)).collect();
    let holders = wildcard_trait_holders(role, granted, users);
    if wild.is_empty() && holders.is_empty() {
        return None;
    }
    let name = role.metadata.name.as_str();
    Some(WILDCARD_TOOLS.finding(
        Severity::High,
        (SubjectKind::Role, name),
        format!("Role {name} allows every tool of the MCP servers it reaches"),
        json!({ "mcp_tools": wild, "app_labels": role.spec.allow.app_labels,
                "users_with_wildcard_trait": holders }),
        "List the MCP tools the role needs (literal names or narrow globs such as search_*); never '*' or ^.*$.",
    ))
}

fn wildcard_servers(role: &Role) -> Option<Finding> {
    let granted = granted_tools(role);
    let labels = wildcard_labels(&role.spec.allow);
    if granted.is_empty() || labels.is_empty() || every_app(&role.spec.deny) {
        return None;
    }
    let any_tool = granted.iter().any(|t| catch_all(t));
    let name = role.metadata.name.as_str();
    Some(WILDCARD_SERVERS.finding(
        if any_tool { Severity::High } else { Severity::Medium },
        (SubjectKind::Role, name),
        format!("Role {name} grants MCP tools on every MCP server its wildcard app_labels select"),
        json!({ "wildcard_app_labels": labels, "mcp_tools": granted, "every_tool": any_tool }),
        "Select MCP servers by specific labels (e.g. teleport.internal/app-sub-kind: mcp plus env/team labels) instead of wildcards.",
    ))
}

fn admin_with_tools(role: &Role, p: &Privileges) -> Option<Finding> {
    let name = role.metadata.name.as_str();
    let granted = granted_tools(role);
    if granted.is_empty() || !reaches_apps(&role.spec.allow) {
        return None;
    }
    let admin = p.admin_reasons(name);
    if admin.is_empty() {
        return None;
    }
    Some(ADMIN_WITH_TOOLS.finding(
        Severity::High,
        (SubjectKind::Role, name),
        format!("Admin-equivalent role {name} also grants MCP tools"),
        json!({ "mcp_tools": granted, "app_labels": role.spec.allow.app_labels, "admin_because": admin }),
        "Give MCP access through a separate, non-admin role so an AI agent never holds admin credentials.",
    ))
}

/// Why a deny entry does not deny what it looks like it denies; None when it is fine.
fn deny_problem(entry: &str, allow: &[String]) -> Option<&'static str> {
    if is_template(entry) || entry == "*" {
        return None;
    }
    let (starts, ends) = (entry.starts_with('^'), entry.ends_with('$'));
    if starts && ends {
        return Regex::new(entry).is_err().then_some(
            "invalid regular expression: Teleport's matcher returns an error for every tool instead of a match",
        );
    }
    if starts || ends {
        return Some("only one of ^ and $: Teleport reads it as a glob, so ^ and $ are literal and no tool matches");
    }
    if REGEX_HINTS.iter().any(|h| entry.contains(h)) {
        return Some("regex syntax without ^…$: Teleport reads it as a glob where only * is a wildcard");
    }
    let lower = entry.to_lowercase();
    let allowed = |n: &str| allow.iter().any(|a| !is_template(a) && role_matches(a, n));
    if !entry.contains('*') && lower != entry && !allowed(entry) && allowed(&lower) {
        return Some("differs only in case from tools the role allows: tool names are matched case-sensitively");
    }
    None
}

fn deny_never_matches(role: &Role) -> Option<Finding> {
    let allow = tools(&role.spec.allow);
    let problems: Vec<_> = tools(&role.spec.deny)
        .iter()
        .filter_map(|e| deny_problem(e, allow).map(|why| json!({ "entry": e, "problem": why })))
        .collect();
    if problems.is_empty() {
        return None;
    }
    let name = role.metadata.name.as_str();
    Some(DENY_NEVER_MATCHES.finding(
        Severity::Medium,
        (SubjectKind::Role, name),
        format!("Role {name} has deny mcp.tools entries that do not deny the tools they name"),
        json!({ "deny_mcp_tools": problems, "allow_mcp_tools": allow }),
        "Write deny entries as exact names, globs with *, or regexes anchored with both ^ and $, in the tools' exact case.",
    ))
}

fn deny_tools_only(role: &Role) -> Option<Finding> {
    let (allow, deny) = (&role.spec.allow, &role.spec.deny);
    let denied: Vec<&String> = tools(deny).iter().filter(|t| catch_all(t)).collect();
    if denied.is_empty() || !reaches_apps(allow) || reaches_apps(deny) {
        return None;
    }
    let name = role.metadata.name.as_str();
    Some(DENY_TOOLS_ONLY.finding(
        Severity::Medium,
        (SubjectKind::Role, name),
        format!("Role {name} denies every MCP tool but still reaches the MCP servers its app_labels select"),
        json!({ "deny_mcp_tools": denied, "app_labels": allow.app_labels,
                "app_labels_expression": allow.app_labels_expression }),
        "To keep holders off MCP servers, deny the servers themselves (deny.app_labels, e.g. teleport.internal/app-sub-kind: mcp).",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catch_alls_follow_teleport_matching() {
        for wild in ["*", "**", "^.*$", "^(.*)$", "^.+$"] {
            assert!(catch_all(wild), "{wild}");
        }
        for narrow in ["slack_*", "^(get|list).*$", ".*", "{{internal.mcp_tools}}", "^.*"] {
            assert!(!catch_all(narrow), "{narrow}");
        }
    }

    #[test]
    fn deny_problems() {
        let allow = ["slack_*".to_owned()];
        assert!(deny_problem("^delete_.*", &allow).is_some());
        assert!(deny_problem("delete_.*", &allow).is_some());
        assert!(deny_problem("^(delete$", &allow).is_some());
        assert!(deny_problem("Slack_post_message", &allow).is_some());
        for fine in ["slack_post_message", "delete_*", "^delete_.*$", "*", "{{external.denied}}", "CamelTool"] {
            assert_eq!(deny_problem(fine, &allow), None, "{fine}");
        }
    }
}
