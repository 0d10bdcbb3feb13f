//! Test support: a fresh database per test, the whole stack started in-process on port 0 with the
//! simulator as Teleport, and a real MCP client over HTTP (rmcp, or the Python clients in `python`).

pub mod browser;
pub mod client;
pub mod console;
mod db;
mod identity;
pub mod idp;
pub mod oidc;
pub mod process;
pub mod python;
pub mod queue;
pub mod sim;
mod stack;

pub use client::McpClient;
pub use db::TestDb;
pub use identity::{identity_file, identity_file_with_role};
pub use stack::{Stack, StackOptions, Tweak};
