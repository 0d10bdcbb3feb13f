//! The MCP surface: the tool list per caller and the one generic call path.

mod args;
mod call;
mod decide;
pub(crate) mod fixtures;
mod in_flight;
pub(crate) mod leases;
mod local;
mod server;
mod tasks;
mod tools;

pub use server::McpHandler;
