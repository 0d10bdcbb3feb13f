//! Access-request arguments parsed into types: request ids and requested resources (roles or
//! resource ids). Nothing that could become a command-line flag survives parsing.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::quoted;

/// A Teleport access request id (a UUID).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RequestId(String);

/// A value that is not a valid access-request argument; the message says why.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct InvalidAccessArg(pub String);

impl RequestId {
    /// Parse a request id.
    pub fn parse(s: &str) -> Result<Self, InvalidAccessArg> {
        uuid::Uuid::parse_str(s.trim())
            .map(|u| Self(u.hyphenated().to_string()))
            .map_err(|_| InvalidAccessArg(format!("{} is not an access request id (a UUID)", quoted(s, ECHO))))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One thing to request: a role, or a resource id (`/<cluster>/<kind>/<name>`; Kubernetes
/// resources `/<cluster>/kube:ns:<plural>[.<group>]/<kube_cluster>/<namespace>/<name>` and
/// `/<cluster>/kube:cw:<plural>[.<group>]/<kube_cluster>/<name>`, see [`super::resource_id`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestedResource {
    Role(String),
    Resource(String),
}

/// Printed characters of a refused value echoed back: 80, and the quotes.
const ECHO: usize = 82;

fn name_ok(s: &str, extra: &[char]) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@' | ':') || extra.contains(&c))
        && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
}

impl RequestedResource {
    /// Parse one entry of `resources`.
    pub fn parse(s: &str) -> Result<Self, InvalidAccessArg> {
        if s.starts_with('/') {
            return match super::resource_id::check(s, |part| name_ok(part, &[])) {
                Ok(()) => Ok(Self::Resource(s.to_owned())),
                Err(e) => Err(InvalidAccessArg(format!("{} is not a valid resource id: {e}", quoted(s, ECHO)))),
            };
        }
        if name_ok(s, &[]) {
            Ok(Self::Role(s.to_owned()))
        } else {
            Err(InvalidAccessArg(format!(
                "{} is neither a role name (letters, digits, . _ - @ :, starting with a letter or digit) nor a resource id (/<cluster>/<kind>/<name>)",
                quoted(s, ECHO)
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_resources_parse_and_flags_do_not() {
        assert_eq!(RequestedResource::parse("db-admin").unwrap(), RequestedResource::Role("db-admin".into()));
        assert!(matches!(
            RequestedResource::parse("/teleport.example.com/node/web-01").unwrap(),
            RequestedResource::Resource(_)
        ));
        assert!(matches!(
            RequestedResource::parse("/c/kube:ns:pods/prod/default/pod-1").unwrap(),
            RequestedResource::Resource(_)
        ));
        // A kube_cluster takes no sub-resource: a pod is kube:ns:pods.
        let wrong = RequestedResource::parse("/c/kube_cluster/prod/default/pod-1").unwrap_err().to_string();
        assert!(wrong.contains("kube:ns:"), "{wrong}");
        for bad in ["", "-x", "--roles=admin", "a b", "a\nb", "/c/node", "/c/Node/x", "/c/node/-x", "$(id)", "a,b"] {
            assert!(RequestedResource::parse(bad).is_err(), "{bad:?}");
        }
        assert!(RequestId::parse("c418967c-2127-4f75-a6be-29b7983ceb3b").is_ok());
        assert!(RequestId::parse("--approve").unwrap_err().to_string().contains("UUID"));
    }
}
