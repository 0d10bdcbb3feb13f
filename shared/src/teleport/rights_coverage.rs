//! Which tools the control plane's own Teleport roles do not cover: each tool's row of the rights
//! table ([`super::rights`]) against the allow and deny rules and the fields of the roles its
//! identity holds, decided as Teleport does (a deny rule wins; `*` matches any kind or verb).
//! `where` clauses are not evaluated: a rule that has one counts as granting (the report says
//! what can be checked, and Teleport decides the rest at call time).

use super::models::{Role, RoleConditions, Rule};
use super::rights::{Need, RIGHTS};
use crate::domain::ToolName;

/// A tool that would fail (or see less) with these roles, and the first right it lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    pub tool: &'static str,
    /// The right, as the rights doc writes it, e.g. "`user`: list, read (mcp-inventory)".
    pub missing: String,
}

/// What an identity's roles cover, read from the cluster's roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    /// Roles the identity's certificate names that the cluster's role list does not hold.
    pub missing_roles: Vec<String>,
    pub gaps: Vec<Gap>,
}

/// The coverage of an identity holding `identity_roles`, with the cluster's `roles` as `tctl get
/// roles` lists them, for the tools `enabled` says yes to.
pub fn coverage(roles: &[Role], identity_roles: &[String], enabled: impl Fn(&str) -> bool) -> Coverage {
    let held: Vec<&Role> = roles.iter().filter(|r| identity_roles.contains(&r.metadata.name)).collect();
    let missing_roles =
        identity_roles.iter().filter(|name| !held.iter().any(|r| &r.metadata.name == *name)).cloned().collect();
    Coverage { missing_roles, gaps: gaps(&held, enabled) }
}

/// Whether the control plane offers `tool` with the passthrough switches as given (the other tools
/// are always offered; a role that may not call them is the policy's business, not Teleport's).
pub fn offered(tool: &str, tctl_passthrough: bool, tsh_passthrough: bool) -> bool {
    if tool == ToolName::RunTctlCommand.as_str() {
        tctl_passthrough
    } else if tool == ToolName::RunTshCommand.as_str() {
        tsh_passthrough
    } else {
        true
    }
}

/// The gaps of `roles` for every tool of the table `enabled` says yes to.
pub fn gaps(roles: &[&Role], enabled: impl Fn(&str) -> bool) -> Vec<Gap> {
    let mut out = Vec::new();
    for row in RIGHTS.iter().filter(|r| enabled(r.tool.as_str())) {
        if let Some(need) = row.needs.iter().find(|n| !covered(roles, n)) {
            out.push(Gap { tool: row.tool.as_str(), missing: super::rights::need_text(need) });
        }
    }
    out
}

fn covered(roles: &[&Role], need: &Need) -> bool {
    match *need {
        Need::Implicit { .. } => true,
        Need::Rule { kind, verbs, .. } => verbs.iter().all(|verb| {
            let allowed = roles.iter().any(|r| grants(&r.spec.allow.rules, kind, verb));
            let denied = roles.iter().any(|r| grants(&r.spec.deny.rules, kind, verb));
            allowed && !denied
        }),
        Need::Field { path, .. } => roles.iter().any(|r| has_field(&r.spec.allow, path)),
    }
}

fn grants(rules: &[Rule], kind: &str, verb: &str) -> bool {
    rules
        .iter()
        .any(|r| r.resources.iter().any(|k| k == "*" || k == kind) && r.verbs.iter().any(|v| v == "*" || v == verb))
}

/// Whether the role's `allow` sets the field the table names (`allow.<field>`).
fn has_field(allow: &RoleConditions, path: &str) -> bool {
    match path.strip_prefix("allow.").unwrap_or(path) {
        "request.roles" => allow.request.as_ref().is_some_and(|r| !r.roles.is_empty()),
        "request.search_as_roles" => allow.request.as_ref().is_some_and(|r| !r.search_as_roles.is_empty()),
        "review_requests.roles" => allow.review_requests.as_ref().is_some_and(|r| !r.roles.is_empty()),
        "node_labels" => !allow.node_labels.is_empty() || !allow.node_labels_expression.is_empty(),
        "app_labels" => !allow.app_labels.is_empty(),
        "db_labels" => !allow.db_labels.is_empty(),
        "kubernetes_labels" => !allow.kubernetes_labels.is_empty(),
        "windows_desktop_labels" => !allow.windows_desktop_labels.is_empty(),
        "db_users" => !allow.db_users.is_empty(),
        "db_names" => !allow.db_names.is_empty(),
        "kubernetes_groups" => !allow.kubernetes_groups.is_empty(),
        "logins" => !allow.logins.is_empty(),
        // A field this check does not know: a test keeps the table and this list together.
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::teleport::rights::Plane;

    fn role(yaml: &str) -> Role {
        serde_yaml::from_str(yaml).unwrap()
    }

    fn shipped(plane: Plane) -> Role {
        let path = format!("{}/../deploy/teleport/{}.yaml", env!("CARGO_MANIFEST_DIR"), plane.role());
        role(&std::fs::read_to_string(path).unwrap())
    }

    #[test]
    fn the_shipped_roles_cover_every_tool_and_each_field_is_known() {
        let all: Vec<Role> = Plane::ALL.into_iter().map(shipped).collect();
        let refs: Vec<&Role> = all.iter().collect();
        assert_eq!(gaps(&refs, |_| true), [], "the shipped roles leave a tool uncovered");
        for plane in Plane::ALL {
            for field in crate::teleport::rights::plane_fields(plane) {
                assert!(all.iter().any(|r| has_field(&r.spec.allow, field)), "{field} is not checked");
            }
        }
    }

    #[test]
    fn a_missing_rule_a_deny_and_a_missing_field_each_leave_a_gap() {
        let inventory = shipped(Plane::Inventory);
        let gaps_of = |roles: &[&Role]| gaps(roles, |t| t == "list_users" || t == "create_access_request");
        let found = gaps_of(&[&inventory]);
        assert_eq!(found.iter().map(|g| g.tool).collect::<Vec<_>>(), ["create_access_request"], "{found:?}");
        assert!(found[0].missing.contains("request.roles"), "{found:?}");
        let deny = role(
            "kind: role\nmetadata: {name: no-users}\nspec:\n  deny:\n    rules: [{resources: [user], verbs: [read]}]\n",
        );
        let found = gaps_of(&[&inventory, &shipped(Plane::Access), &deny]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].tool, "list_users");
        assert!(found[0].missing.contains("`user`"), "{found:?}");
        let star = role(
            "kind: role\nmetadata: {name: star}\nspec:\n  allow:\n    rules: [{resources: ['*'], verbs: ['*']}]\n",
        );
        assert_eq!(gaps(&[&star], |t| t == "list_users"), []);
    }
}
