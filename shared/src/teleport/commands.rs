//! The exact command lines the control plane runs, so parsers, errors and records name them the
//! same way.

use std::fmt;

use super::runner::Binary;

/// A fixed command line (without the global flags the runner adds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CliCommand {
    /// Which binary.
    pub binary: Binary,
    /// Arguments after the binary.
    pub args: &'static [&'static str],
}

impl CliCommand {
    /// The arguments as owned strings, ready for [`super::runner::Runner::run`].
    pub fn to_args(&self) -> Vec<String> {
        self.args.iter().map(|a| (*a).to_owned()).collect()
    }
}

impl fmt::Display for CliCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.binary)?;
        for arg in self.args {
            write!(f, " {arg}")?;
        }
        Ok(())
    }
}

const fn tctl(args: &'static [&'static str]) -> CliCommand {
    CliCommand { binary: Binary::Tctl, args }
}

const fn tsh(args: &'static [&'static str]) -> CliCommand {
    CliCommand { binary: Binary::Tsh, args }
}

/// `tctl get nodes --format=json`.
pub const GET_NODES: CliCommand = tctl(&["get", "nodes", "--format=json"]);
/// `tctl get proxies --format=json`.
pub const GET_PROXIES: CliCommand = tctl(&["get", "proxies", "--format=json"]);
/// `tctl get roles --format=json`.
pub const GET_ROLES: CliCommand = tctl(&["get", "roles", "--format=json"]);
/// `tctl get users --format=json`.
pub const GET_USERS: CliCommand = tctl(&["get", "users", "--format=json"]);
/// `tctl tokens ls --format=json` (prints secret token names unmasked).
pub const LIST_TOKENS: CliCommand = tctl(&["tokens", "ls", "--format=json"]);
/// `tctl get cert_authorities --format=json`.
pub const GET_CERT_AUTHORITIES: CliCommand = tctl(&["get", "cert_authorities", "--format=json"]);
/// `tctl get cluster_auth_preference --format=json`.
pub const GET_AUTH_PREFERENCE: CliCommand = tctl(&["get", "cluster_auth_preference", "--format=json"]);
/// `tctl get db_server --format=json`: the databases agents serve, one entry per agent.
pub const GET_DB_SERVERS: CliCommand = tctl(&["get", "db_server", "--format=json"]);
/// `tctl get app_server --format=json`: the applications (MCP servers among them) agents serve.
pub const GET_APP_SERVERS: CliCommand = tctl(&["get", "app_server", "--format=json"]);
/// `tctl get kube_server --format=json`: the Kubernetes clusters agents serve.
pub const GET_KUBE_SERVERS: CliCommand = tctl(&["get", "kube_server", "--format=json"]);
/// `tctl get windows_desktop --format=json`.
pub const GET_WINDOWS_DESKTOPS: CliCommand = tctl(&["get", "windows_desktop", "--format=json"]);
/// `tctl status`, with no flags: 17.x and 18.x refuse `--format` (it arrived in 19.x), and the
/// text every release prints is enough (see [`super::status_text`]).
pub const STATUS: CliCommand = tctl(&["status"]);
/// `tsh request ls --format=json`.
pub const LIST_ACCESS_REQUESTS: CliCommand = tsh(&["request", "ls", "--format=json"]);
/// `tsh request show <ID> --format=json` (named without the id).
pub const SHOW_ACCESS_REQUEST: CliCommand = tsh(&["request", "show", "--format=json"]);
/// `tsh mcp ls --format=json`.
pub const LIST_MCP_SERVERS: CliCommand = tsh(&["mcp", "ls", "--format=json"]);
/// `tsh ls` (text table).
pub const LIST_SSH_NODES: CliCommand = tsh(&["ls"]);
