//! Running `tctl`/`tsh` safely and parsing what they print into typed models and compact views.

pub mod access;
pub mod commands;
pub mod discovery;
pub mod duration;
pub mod error;
pub mod fetch;
pub mod identity;
pub mod inventory;
pub mod models;
pub mod parse;
pub mod passthrough;
pub mod proxy;
pub mod record;
pub mod rights;
pub mod rights_coverage;
pub mod runner;
pub mod status_text;
pub mod table;
pub mod views;

pub use error::{TeleportError, classify};
pub use inventory::{
    ToolFailure, ToolRun, get_auth_preference, list_apps, list_cas, list_databases, list_kube_clusters,
    list_mcp_servers, list_nodes, list_proxies, list_roles, list_tokens, list_users, list_windows_desktops,
};
pub use parse::ParseError;
pub use record::RunRecord;
pub use runner::{
    ArgError, Binary, RunEntry, RunError, RunLog, RunOutput, Runner, RunnerError, RunnerSettings, safe_positional,
};
