//! The MCP surface: the tool list per caller and the one generic call path.

mod answer;
mod approval;
mod args;
pub(crate) mod call;
mod cluster;
mod coalesce;
mod decide;
#[cfg(feature = "conformance")]
pub(crate) mod fixtures;
#[cfg(not(feature = "conformance"))]
#[path = "fixtures_absent.rs"]
pub(crate) mod fixtures;
mod in_flight;
pub(crate) mod leases;
mod local;
mod server;
mod tasks;
mod tools;

pub use server::McpHandler;
