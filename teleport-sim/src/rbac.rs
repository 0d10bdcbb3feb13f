//! Teleport's RBAC for the identity the simulator acts as, when the state turns it on
//! (`rbac: true`): the identity's roles are its user's `spec.roles` among the state's roles, and
//! a command runs only if they allow it, as `CheckAccessToRule` (`lib/services/role.go`) decides:
//! a matching `deny` rule refuses, else a matching `allow` rule or one of Teleport's implicit
//! rules (`DefaultImplicitRules`) grants, else `access denied to perform action "<verb>" on
//! "<kind>"`. `where` clauses are not evaluated (a rule with one counts as matching).
//!
//! Without `rbac: true` (the demo and older state files) the identity may do everything except
//! what the state's `deny` list names.

use crate::error::SimError;
use crate::state::State;
use crate::value::Value;

const RO: &[&str] = &["list", "read"];

/// `DefaultImplicitRules`: what every role may do without saying so.
const IMPLICIT: &[(&str, &[&str])] = &[
    ("node", RO),
    ("proxy", RO),
    ("auth_server", RO),
    ("reverse_tunnel", RO),
    ("cert_authority", &["list", "readnosecrets"]),
    ("cluster_auth_preference", RO),
    ("cluster_name", RO),
    ("ssh_session", RO),
    ("app_server", RO),
    ("remote_cluster", RO),
    ("kube_server", RO),
    ("db_server", RO),
    ("db", RO),
    ("app", RO),
    ("kube_cluster", RO),
];

/// The roles of an identity under RBAC.
#[derive(Debug)]
pub struct Rights<'a> {
    roles: Vec<&'a Value>,
}

/// Whether the identity sees resources a role's `allow.<field>` label selector governs (always,
/// without RBAC); see [`Rights::has_labels`].
pub fn sees(state: &State, user: &str, field: &str) -> bool {
    rights(state, user).is_none_or(|r| r.has_labels(field))
}

/// The identity's rights, or `None` when the state does not enforce RBAC. A user the state does
/// not list, or a role it does not define, grants nothing (Teleport would not issue it a
/// certificate).
pub fn rights<'a>(state: &'a State, user: &str) -> Option<Rights<'a>> {
    if !state.rbac {
        return None;
    }
    let names: Vec<&str> = state
        .user(user)
        .map(|u| u.array_at(&["spec", "roles"]).iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let roles = names.iter().filter_map(|n| state.role(n)).collect();
    Some(Rights { roles })
}

fn strings<'v>(v: &'v Value, path: &[&str]) -> Vec<&'v str> {
    v.array_at(path).iter().filter_map(Value::as_str).collect()
}

fn rule_matches(rule: &Value, kind: &str, verb: &str) -> bool {
    let has = |key: &str, want: &str| strings(rule, &[key]).iter().any(|x| *x == want || *x == "*");
    has("resources", kind) && has("verbs", verb)
}

/// A role list entry (`request.roles`, `review_requests.roles`) matching `name`: literal, `*`,
/// a glob, or a `^…$` regular expression reduced to its literal text (`utils.SliceMatchesRegex`).
pub fn name_matches(pattern: &str, name: &str) -> bool {
    if pattern == "*" || pattern == name {
        return true;
    }
    let pattern = pattern.strip_prefix('^').and_then(|p| p.strip_suffix('$')).unwrap_or(pattern);
    match pattern.split_once('*') {
        Some((head, tail)) => name.len() >= head.len() + tail.len() && name.starts_with(head) && name.ends_with(tail),
        None => pattern == name,
    }
}

impl Rights<'_> {
    fn any(&self, side: &str, test: impl Fn(&Value) -> bool) -> bool {
        self.roles.iter().filter_map(|r| r.at(&["spec", side])).any(test)
    }

    /// `CheckAccessToRule` for each verb in turn; the first refused verb is the error.
    pub fn check_rule(&self, kind: &str, verbs: &[&str]) -> Result<(), SimError> {
        for verb in verbs {
            let denied = self.any("deny", |d| d.array_at(&["rules"]).iter().any(|r| rule_matches(r, kind, verb)));
            let implicit = IMPLICIT.iter().any(|(k, vs)| *k == kind && vs.contains(verb));
            let allowed =
                implicit || self.any("allow", |a| a.array_at(&["rules"]).iter().any(|r| rule_matches(r, kind, verb)));
            if denied || !allowed {
                return Err(SimError::access_denied(verb, kind));
            }
        }
        Ok(())
    }

    /// Whether the rule check passes, without the error.
    pub fn allows(&self, kind: &str, verbs: &[&str]) -> bool {
        self.check_rule(kind, verbs).is_ok()
    }

    /// Whether a role list under `allow` (e.g. `["request", "roles"]`) admits `name` and the same
    /// list under `deny` does not.
    pub fn lists(&self, path: &[&str], name: &str) -> bool {
        let has = |side: &Value| strings(side, path).iter().any(|p| name_matches(p, name));
        !self.any("deny", has) && self.any("allow", has)
    }

    /// Whether the identity sees a request of `owner` for `roles` (`GetAccessRequests`): every
    /// request with `list` and `read` on `access_request`, else its own and those whose roles its
    /// `review_requests` covers.
    pub fn sees_request(&self, me: &str, owner: &str, roles: &[&str]) -> bool {
        owner == me || self.allows("access_request", &["list", "read"]) || self.may_review(roles)
    }

    /// Whether `review_requests.roles` covers every role of a request.
    pub fn may_review(&self, roles: &[&str]) -> bool {
        !roles.is_empty() && roles.iter().all(|r| self.lists(&["review_requests", "roles"], r))
    }

    /// Whether some role's `allow.<field>` label selector is set (`db_labels`, `app_labels`,
    /// `node_labels`…). Labels are not compared: any selector is taken to match every simulated
    /// resource of the kind (the simulator does not compare labels).
    pub fn has_labels(&self, field: &str) -> bool {
        self.any("allow", |a| a.at(&[field]).and_then(Value::as_object).is_some_and(|m| !m.is_empty()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_and_regexes_match_role_names() {
        assert!(name_matches("*", "editor") && name_matches("edit*", "editor") && name_matches("^editor$", "editor"));
        assert!(!name_matches("access", "editor") && !name_matches("dev-*", "editor"));
    }
}
