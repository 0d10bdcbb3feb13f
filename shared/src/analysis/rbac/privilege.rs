//! What each role really grants: admin-equivalence, root logins, wildcard node access and
//! impersonation, with deny rules applied. Every rule asks this module, so "admin-equivalent" and
//! "privileged" mean the same thing everywhere (definitions in `docs/rbac-rules.md`).

use std::collections::BTreeMap;

use super::pattern::{role_matches, trait_name};
use crate::teleport::models::{Role, RoleConditions, Rule, User};

/// Verbs that change a resource.
pub(crate) const WRITE_VERBS: &[&str] = &["create", "update", "delete"];
/// Resources whose write access is enough to grant oneself any privilege (or to switch MFA off).
pub(crate) const SENSITIVE_WRITE_RESOURCES: &[&str] = &["role", "user", "token", "cluster_auth_preference"];
/// Preset role names assumed admin-equivalent when their definition is not among the scanned roles.
pub(crate) const ADMIN_PRESET_NAMES: &[&str] = &["admin", "editor", "root"];
/// The login that matters.
const ROOT: &str = "root";

/// How a role lets its holders log in as `root` on nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RootLogin {
    /// It does not.
    None,
    /// `root` is listed in `allow.logins`.
    Literal,
    /// Through a login trait (`{{internal.logins}}`) whose value contains `root` for these holders.
    Traits(Vec<String>),
}

/// The privilege-relevant facts of one defined role.
#[derive(Debug, Clone)]
pub(crate) struct RoleFacts {
    /// Why the role is admin-equivalent; empty when it is not.
    pub admin_reasons: Vec<String>,
    /// Root logins on the nodes the role selects.
    pub root_login: RootLogin,
    /// `node_labels` `'*': '*'` (every node), not cancelled by deny.
    pub wildcard_nodes: bool,
    /// `impersonate` grants users or roles.
    pub impersonates: bool,
}

/// Facts of every scanned role, by name.
#[derive(Debug, Clone, Default)]
pub(crate) struct Privileges {
    facts: BTreeMap<String, RoleFacts>,
}

impl Privileges {
    /// Analyses each role; `users` resolve login traits.
    pub(crate) fn build(roles: &[Role], users: &[User]) -> Privileges {
        let mut holders: BTreeMap<&str, Vec<&User>> = BTreeMap::new();
        for user in users {
            for role in &user.spec.roles {
                holders.entry(role.as_str()).or_default().push(user);
            }
        }
        let facts = roles
            .iter()
            .map(|role| {
                let name = role.metadata.name.as_str();
                let held_by = holders.get(name).map(Vec::as_slice).unwrap_or_default();
                (name.to_owned(), RoleFacts::build(role, held_by))
            })
            .collect();
        Privileges { facts }
    }

    /// Facts of a defined role.
    pub(crate) fn facts(&self, role: &str) -> Option<&RoleFacts> {
        self.facts.get(role)
    }

    /// Why `role` is admin-equivalent (empty when it is not). Undefined roles named like an admin
    /// preset are assumed to be that preset.
    pub(crate) fn admin_reasons(&self, role: &str) -> Vec<String> {
        match self.facts.get(role) {
            Some(f) => f.admin_reasons.clone(),
            None if ADMIN_PRESET_NAMES.contains(&role) => {
                vec!["preset admin role name; its definition was not among the scanned roles".to_owned()]
            }
            None => Vec::new(),
        }
    }

    /// Why `role` is privileged: admin-equivalent, root logins on nodes, or impersonation.
    pub(crate) fn privileged_reasons(&self, role: &str) -> Vec<String> {
        let mut reasons: Vec<String> =
            self.admin_reasons(role).into_iter().map(|r| format!("admin-equivalent: {r}")).collect();
        if let Some(f) = self.facts.get(role) {
            match &f.root_login {
                RootLogin::None => {}
                RootLogin::Literal => reasons.push("allows login as root".to_owned()),
                RootLogin::Traits(users) => {
                    reasons.push(format!("allows login as root through the login traits of {}", users.join(", ")))
                }
            }
            if f.impersonates {
                reasons.push("may impersonate users or roles".to_owned());
            }
        }
        reasons
    }

    /// Admin-equivalent roles selected by `allow` patterns and not by `deny` patterns: defined
    /// roles, plus undefined preset names listed literally (a wildcard selects only roles that exist).
    pub(crate) fn admin_targets(&self, allow: &[String], deny: &[String]) -> Vec<String> {
        let selected =
            |name: &str| allow.iter().any(|p| role_matches(p, name)) && !deny.iter().any(|p| role_matches(p, name));
        let mut out: Vec<String> = self
            .facts
            .iter()
            .filter(|(name, f)| !f.admin_reasons.is_empty() && selected(name))
            .map(|(name, _)| name.clone())
            .collect();
        for preset in ADMIN_PRESET_NAMES {
            let named = allow.iter().any(|p| p == preset);
            if !self.facts.contains_key(*preset) && named && selected(preset) {
                out.push((*preset).to_owned());
            }
        }
        out.sort();
        out
    }

    /// Names of the defined admin-equivalent roles.
    pub(crate) fn admin_role_names(&self) -> Vec<String> {
        self.facts.iter().filter(|(_, f)| !f.admin_reasons.is_empty()).map(|(n, _)| n.clone()).collect()
    }
}

impl RoleFacts {
    fn build(role: &Role, holders: &[&User]) -> RoleFacts {
        let (allow, deny) = (&role.spec.allow, &role.spec.deny);
        let impersonate = allow.impersonate.as_ref();
        RoleFacts {
            admin_reasons: admin_reasons(allow, deny),
            root_login: root_login(allow, deny, holders),
            wildcard_nodes: wildcard_labels(allow) && !wildcard_labels(deny),
            impersonates: impersonate.is_some_and(|i| !i.users.is_empty() || !i.roles.is_empty()),
        }
    }
}

fn covers(list: &[String], item: &str) -> bool {
    list.iter().any(|x| x == "*" || x == item)
}

/// Deny rules without a `where` clause always apply; conditional ones may not, so they are ignored.
pub(crate) fn denies(deny: &[Rule], resource: &str, verb: &str) -> bool {
    deny.iter().any(|r| r.where_clause.is_empty() && covers(&r.resources, resource) && covers(&r.verbs, verb))
}

/// Whether the role grants `verb` on `resource` (allow rules with `where` clauses count: they are
/// still a grant under some condition).
fn grants(allow: &RoleConditions, deny: &RoleConditions, resource: &str, verb: &str) -> bool {
    allow.rules.iter().any(|r| covers(&r.resources, resource) && covers(&r.verbs, verb))
        && !denies(&deny.rules, resource, verb)
}

/// An allow rule with `*` resources and `*` verbs, not cancelled by a deny `*:*`.
fn full_wildcard(allow: &RoleConditions, deny: &RoleConditions) -> bool {
    let wild = |l: &[String]| l.iter().any(|x| x == "*");
    allow.rules.iter().any(|r| wild(&r.resources) && wild(&r.verbs)) && !denies(&deny.rules, "*", "*")
}

fn admin_reasons(allow: &RoleConditions, deny: &RoleConditions) -> Vec<String> {
    if full_wildcard(allow, deny) {
        return vec!["allow rule *:* (every verb on every resource)".to_owned()];
    }
    SENSITIVE_WRITE_RESOURCES
        .iter()
        .filter_map(|resource| {
            let verbs: Vec<&str> = WRITE_VERBS.iter().copied().filter(|v| grants(allow, deny, resource, v)).collect();
            (!verbs.is_empty()).then(|| format!("{} on {resource}", verbs.join(", ")))
        })
        .collect()
}

fn wildcard_labels(c: &RoleConditions) -> bool {
    c.node_labels.get("*").is_some_and(|values| values.iter().any(|v| v == "*"))
}

fn root_login(allow: &RoleConditions, deny: &RoleConditions, holders: &[&User]) -> RootLogin {
    let selects_nodes = !allow.node_labels.is_empty() || !allow.node_labels_expression.is_empty();
    if !selects_nodes || deny.logins.iter().any(|l| l == ROOT) {
        return RootLogin::None;
    }
    if allow.logins.iter().any(|l| l == ROOT) {
        return RootLogin::Literal;
    }
    let traits: Vec<&str> = allow.logins.iter().filter_map(|l| trait_name(l)).collect();
    let mut users: Vec<String> = holders
        .iter()
        .filter(|u| traits.iter().any(|t| u.spec.traits.get(*t).is_some_and(|v| v.iter().any(|l| l == ROOT))))
        .map(|u| u.metadata.name.clone())
        .collect();
    users.sort();
    users.dedup();
    if users.is_empty() { RootLogin::None } else { RootLogin::Traits(users) }
}
