//! What a command touches on the Auth Service, and the checks that can refuse it: the state's
//! `deny` list, the identity's roles when the state enforces RBAC (see [`crate::rbac`]), and
//! injected failures.

use crate::error::SimError;
use crate::faults::Faults;
use crate::rbac;
use crate::state::State;

/// The RBAC verb and resources of one command.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// `list` for collections, `read` for one named resource.
    pub verb: &'static str,
    /// RBAC resource names (`node`, `token`, …); the first one is used in injected errors.
    pub resources: Vec<&'static str>,
    /// What RBAC checks: each kind with the verbs its API call checks
    /// (`lib/auth/auth_with_roles.go`), e.g. `GetTokens` checks `list` and `read` on `token`.
    pub rules: Vec<(&'static str, Vec<&'static str>)>,
}

impl Target {
    /// A target of one resource.
    pub fn new(verb: &'static str, resource: &'static str) -> Self {
        Target { verb, resources: vec![resource], rules: vec![(resource, vec![verb])] }
    }

    /// A target RBAC checks nothing of: what the handler decides itself (access requests, whose
    /// visibility and creation follow the roles' request and review settings), or local work.
    pub fn unchecked(verb: &'static str, resource: &'static str) -> Self {
        Target { verb, resources: vec![resource], rules: Vec::new() }
    }

    /// The same target naming several resources (the first one is used in injected errors).
    pub fn with_resources(mut self, resources: Vec<&'static str>) -> Self {
        self.resources = resources;
        self
    }

    /// The same target with the rules RBAC checks replaced.
    pub fn with_rules(mut self, rules: Vec<(&'static str, Vec<&'static str>)>) -> Self {
        self.rules = rules;
        self
    }

    /// Refuses the command if the identity is denied a resource (the `deny` list, or its roles
    /// under RBAC) or a failure is injected.
    pub fn check(&self, state: &State, identity: &str, faults: &Faults) -> Result<(), SimError> {
        if let Some(denied) = self.resources.iter().find(|r| state.denies(r)) {
            return Err(SimError::access_denied(self.verb, denied));
        }
        if let Some(rights) = rbac::rights(state, identity) {
            for (kind, verbs) in &self.rules {
                rights.check_rule(kind, verbs)?;
            }
        }
        let first = self.resources.first().copied().unwrap_or("cluster");
        match faults.error(self.verb, first) {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }
}
