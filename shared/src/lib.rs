//! Shared library of the MCP Teleport Control Plane: domain types, policy, configuration, database
//! access, the Teleport CLI runner with its typed models, and redaction.

pub mod redact;
pub mod teleport;
