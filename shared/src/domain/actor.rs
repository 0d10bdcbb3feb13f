//! The authenticated caller of a tool, and the one namespace its id lives in.
//!
//! Everything the control plane scopes by actor (operations, leases, tasks, results, rate limits,
//! the in-flight cap) compares this id, so two credential sources must never yield the same one.
//! API-key actors are plain names; a JWT subject is always prefixed with [`JWT_ACTOR_PREFIX`]
//! (`oidc:alice`); a plain name may not contain [`NAMESPACE_SEPARATOR`] nor be one of the names
//! the control plane writes itself ([`RESERVED_ACTORS`]).

use serde::{Deserialize, Serialize};

/// Whether the caller is a person or a service identity (an agent, a pipeline).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    #[default]
    User,
    Service,
}

/// How the caller proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthSource {
    /// An API key listed in the configuration (stored as its SHA-256).
    ConfigApiKey,
    /// An API key created with `mtcp keys` (stored as its SHA-256 in the database).
    DatabaseApiKey,
    /// A JWT from the configured OIDC identity provider.
    Jwt,
    /// No credential: the fixed actor of the gateway's test-only conformance mode (loopback only,
    /// `--conformance-fixtures`). Never seen in production.
    ConformanceFixture,
}

/// An authenticated caller: who it is and which policy role it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Actor {
    /// Stable identifier, e.g. `alice` or `teleport-ai-prod` (API keys) or `oidc:alice` (a JWT).
    pub id: String,
    pub kind: ActorKind,
    /// The policy role, e.g. `operator`.
    pub role: String,
    pub source: AuthSource,
    /// Groups the credential vouches for (a token's groups claim): who may approve is named by them too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
}

/// Separates a credential source from the name it vouches for; never part of an API-key actor.
pub const NAMESPACE_SEPARATOR: char = ':';

/// The prefix of every actor a JWT authenticates: `oidc:<actor_claim value>`.
pub const JWT_ACTOR_PREFIX: &str = "oidc:";

/// Longest actor id stored (the `operations`, `leases` and `api_keys` columns check it).
pub const MAX_ACTOR_CHARS: usize = 256;

/// The actor of refused authentications whose credential named nobody.
pub const ANONYMOUS_ACTOR: &str = "anonymous";

/// The actor of the gateway's test-only conformance mode.
pub const CONFORMANCE_ACTOR: &str = "conformance-suite";

/// Names the control plane records as actors itself: no credential may authenticate as one, or
/// it would see those records as its own.
pub const RESERVED_ACTORS: &[&str] = &[ANONYMOUS_ACTOR, CONFORMANCE_ACTOR];

/// The actor id of a verified JWT whose actor claim is `claim`.
pub fn jwt_actor_id(claim: &str) -> String {
    format!("{JWT_ACTOR_PREFIX}{claim}")
}

/// Why `name` cannot be an API key's actor, or None when it can. Says what to do instead.
pub fn api_key_actor_problem(name: &str) -> Option<String> {
    if name.trim().is_empty()
        || name.chars().count() > MAX_ACTOR_CHARS
        || super::unprintable(name, super::TextKind::Name).is_some()
    {
        return Some(format!(
            "must be a non-empty, printable name of at most {MAX_ACTOR_CHARS} characters (no control, bidi or \
             invisible characters)"
        ));
    }
    if name.contains(NAMESPACE_SEPARATOR) {
        return Some(format!(
            "{name:?} contains {NAMESPACE_SEPARATOR:?}, which separates a credential source from a name (JWT \
             subjects are `{JWT_ACTOR_PREFIX}<subject>`); an API key's actor is a plain name such as `alice`"
        ));
    }
    let lower = name.to_lowercase();
    if let Some(reserved) = RESERVED_ACTORS.iter().find(|r| **r == lower) {
        return Some(format!(
            "{name:?} is reserved: the control plane records {reserved:?} as the actor of its own entries (reserved \
             names: {})",
            RESERVED_ACTORS.join(", ")
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_key_actors_are_plain_unreserved_names() {
        for ok in ["alice", "teleport-ai-prod", "carol@example.com", "dev-admin"] {
            assert_eq!(api_key_actor_problem(ok), None, "{ok}");
        }
        for (bad, says) in [
            ("oidc:alice", "contains ':'"),
            ("x:y", "contains ':'"),
            ("anonymous", "reserved"),
            ("Anonymous", "reserved"),
            ("conformance-suite", "reserved"),
            ("", "non-empty"),
            ("a\u{202e}b", "printable"),
        ] {
            let problem = api_key_actor_problem(bad).unwrap_or_default();
            assert!(problem.contains(says), "{bad:?}: {problem}");
        }
    }

    #[test]
    fn no_jwt_actor_is_a_valid_api_key_actor() {
        for sub in ["admin", "alice", "anonymous", "conformance-suite", ""] {
            let id = jwt_actor_id(sub);
            assert!(api_key_actor_problem(&id).is_some(), "{id}");
        }
    }
}
