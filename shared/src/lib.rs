//! Shared library of the MCP Teleport Control Plane: domain types, policy, configuration, database
//! access, the Teleport CLI runner with its typed models, redaction and telemetry.

pub mod analysis;
pub mod approvals;
pub mod config;
pub mod db;
pub mod domain;
pub mod edge;
pub mod ingest;
pub mod leases;
pub mod listener;
pub mod notifier;
pub mod policy;
pub mod process_group;
pub mod redact;
pub mod service;
pub mod shutdown;
pub mod telemetry;
pub mod teleport;
pub mod terminal;
pub mod tools;
