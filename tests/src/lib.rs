//! Test support: a fresh database per test, the whole stack started in-process on port 0 with the
//! simulator as Teleport, and a real MCP client over HTTP.

pub mod client;
mod db;
pub mod process;
mod stack;

pub use client::McpClient;
pub use db::TestDb;
pub use stack::{Stack, StackOptions, Tweak};
