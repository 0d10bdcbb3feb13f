//! MCP servers (`AppV3` with `sub_kind: mcp`), printed by `tsh mcp ls --format=json`.

use serde::Deserialize;

use super::{Metadata, de};

/// An MCP server application with the caller's tool permissions.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct McpApp {
    /// `app`.
    #[serde(deserialize_with = "de::lenient_string")]
    pub kind: String,
    /// `mcp`.
    #[serde(deserialize_with = "de::lenient_string")]
    pub sub_kind: String,
    /// Name, description, labels.
    #[serde(deserialize_with = "de::nullable")]
    pub metadata: Metadata,
    /// URI and launch command.
    #[serde(deserialize_with = "de::nullable")]
    pub spec: McpAppSpec,
    /// What the caller may use.
    #[serde(deserialize_with = "de::nullable")]
    pub permissions: McpPermissions,
}

/// The parts of `AppSpecV3` an MCP server uses.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct McpAppSpec {
    /// `mcp+stdio://`, `mcp+sse+https://…`, `mcp+https://…`.
    #[serde(deserialize_with = "de::lenient_string")]
    pub uri: String,
    /// stdio launch settings.
    #[serde(deserialize_with = "de::nullable")]
    pub mcp: McpCommand,
}

/// `spec.mcp`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct McpCommand {
    /// Command.
    #[serde(deserialize_with = "de::lenient_string")]
    pub command: String,
    /// Arguments.
    #[serde(deserialize_with = "de::string_list")]
    pub args: Vec<String>,
    /// Host user the command runs as.
    #[serde(deserialize_with = "de::lenient_string")]
    pub run_as_host_user: String,
}

/// `permissions`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct McpPermissions {
    /// `permissions.mcp`.
    #[serde(deserialize_with = "de::nullable")]
    pub mcp: McpToolsBlock,
}

/// `permissions.mcp`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct McpToolsBlock {
    /// `permissions.mcp.tools`.
    #[serde(deserialize_with = "de::nullable")]
    pub tools: McpToolPermissions,
}

/// Allowed and denied tool patterns.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct McpToolPermissions {
    /// Allowed names/globs.
    #[serde(deserialize_with = "de::string_list")]
    pub allowed: Vec<String>,
    /// Denied names/globs.
    #[serde(deserialize_with = "de::string_list")]
    pub denied: Vec<String>,
}

impl McpApp {
    /// The caller's tool permissions.
    pub fn tools(&self) -> &McpToolPermissions {
        &self.permissions.mcp.tools
    }
}
