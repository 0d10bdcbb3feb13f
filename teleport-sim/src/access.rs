//! What a command touches on the Auth Service, and the checks that can refuse it: the state's
//! `deny` list (an identity without RBAC rights) and injected failures.

use crate::error::SimError;
use crate::faults::Faults;
use crate::state::State;

/// The RBAC verb and resources of one command.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// `list` for collections, `read` for one named resource.
    pub verb: &'static str,
    /// RBAC resource names (`node`, `token`, …); the first one is used in injected errors.
    pub resources: Vec<&'static str>,
}

impl Target {
    /// A target of one resource.
    pub fn new(verb: &'static str, resource: &'static str) -> Self {
        Target { verb, resources: vec![resource] }
    }

    /// Refuses the command if the identity is denied a resource or a failure is injected.
    pub fn check(&self, state: &State, faults: &Faults) -> Result<(), SimError> {
        if let Some(denied) = self.resources.iter().find(|r| state.denies(r)) {
            return Err(SimError::access_denied(self.verb, denied));
        }
        let first = self.resources.first().copied().unwrap_or("cluster");
        match faults.error(self.verb, first) {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }
}
