//! Typed inventory for the analysis tools: one `tctl` run per resource kind, parsed into models
//! (not views), with the same scrubbing of stored output as the inventory tools.

use tokio_util::sync::CancellationToken;

use super::inventory::{ToolFailure, run_checked};
use super::models::{
    AuthPreference, CertAuthority, ClusterStatus, ProvisionToken, Role, Server, TargetServer, User, WindowsDesktop,
};
use super::parse::{self, ParseError};
use super::record::Scrub;
use super::{Runner, commands, commands::CliCommand};

async fn fetch<M>(
    r: &Runner,
    cancel: &CancellationToken,
    command: CliCommand,
    scrub: Scrub,
    parse: fn(&str) -> Result<M, ParseError>,
) -> Result<M, ToolFailure> {
    let (out, record) = run_checked(r, command.binary, &command.to_args(), scrub, cancel).await?;
    parse(&out.stdout).map_err(|error| ToolFailure::Parse { error, record })
}

/// `tctl get nodes`.
pub async fn nodes(r: &Runner, c: &CancellationToken) -> Result<Vec<Server>, ToolFailure> {
    fetch(r, c, commands::GET_NODES, Scrub::Plain, parse::parse_nodes).await
}

/// `tctl get proxies`.
pub async fn proxies(r: &Runner, c: &CancellationToken) -> Result<Vec<Server>, ToolFailure> {
    fetch(r, c, commands::GET_PROXIES, Scrub::Plain, parse::parse_proxies).await
}

/// `tctl get roles`.
pub async fn roles(r: &Runner, c: &CancellationToken) -> Result<Vec<Role>, ToolFailure> {
    fetch(r, c, commands::GET_ROLES, Scrub::Plain, parse::parse_roles).await
}

/// `tctl get users`.
pub async fn users(r: &Runner, c: &CancellationToken) -> Result<Vec<User>, ToolFailure> {
    fetch(r, c, commands::GET_USERS, Scrub::Plain, parse::parse_users).await
}

/// `tctl tokens ls` (names are secrets: the stored output is masked).
pub async fn tokens(r: &Runner, c: &CancellationToken) -> Result<Vec<ProvisionToken>, ToolFailure> {
    fetch(r, c, commands::LIST_TOKENS, Scrub::Tokens, parse::parse_tokens).await
}

/// `tctl get cert_authorities` (key material scrubbed from the stored output).
pub async fn cert_authorities(r: &Runner, c: &CancellationToken) -> Result<Vec<CertAuthority>, ToolFailure> {
    fetch(r, c, commands::GET_CERT_AUTHORITIES, Scrub::CertAuthorities, parse::parse_cert_authorities).await
}

/// `tctl get cluster_auth_preference`.
pub async fn auth_preference(r: &Runner, c: &CancellationToken) -> Result<AuthPreference, ToolFailure> {
    fetch(r, c, commands::GET_AUTH_PREFERENCE, Scrub::Plain, parse::parse_auth_preference).await
}

/// `tctl status` (text; see [`super::status_text`]).
pub async fn status(r: &Runner, c: &CancellationToken) -> Result<ClusterStatus, ToolFailure> {
    fetch(r, c, commands::STATUS, Scrub::Plain, parse::parse_cluster_status).await
}

/// `tctl get db_server` (what the database agents serve).
pub async fn db_servers(r: &Runner, c: &CancellationToken) -> Result<Vec<TargetServer>, ToolFailure> {
    fetch(r, c, commands::GET_DB_SERVERS, Scrub::Plain, parse::parse_db_servers).await
}

/// `tctl get app_server` (apps and MCP servers the app agents serve).
pub async fn app_servers(r: &Runner, c: &CancellationToken) -> Result<Vec<TargetServer>, ToolFailure> {
    fetch(r, c, commands::GET_APP_SERVERS, Scrub::Plain, parse::parse_app_servers).await
}

/// `tctl get kube_server` (Kubernetes clusters the kube agents serve).
pub async fn kube_servers(r: &Runner, c: &CancellationToken) -> Result<Vec<TargetServer>, ToolFailure> {
    fetch(r, c, commands::GET_KUBE_SERVERS, Scrub::Plain, parse::parse_kube_servers).await
}

/// `tctl get windows_desktop`.
pub async fn windows_desktops(r: &Runner, c: &CancellationToken) -> Result<Vec<WindowsDesktop>, ToolFailure> {
    fetch(r, c, commands::GET_WINDOWS_DESKTOPS, Scrub::Plain, parse::parse_windows_desktops).await
}
