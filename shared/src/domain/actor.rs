//! The authenticated caller of a tool.

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
    /// Stable identifier, e.g. `alice` or `teleport-ai-prod`.
    pub id: String,
    pub kind: ActorKind,
    /// The policy role, e.g. `operator`.
    pub role: String,
    pub source: AuthSource,
}
