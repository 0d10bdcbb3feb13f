//! The inventory and discovery tools: run the command, classify failures, parse, build the compact view,
//! and keep a redacted record of the run.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use super::commands::{self, CliCommand};
use super::error::{TeleportError, classify};
use super::parse::{self, ParseError};
use super::record::{RunRecord, Scrub};
use super::runner::{Binary, RunError, RunOutput, Runner};
use super::views::{
    AuthPreferenceView, CaList, NodeList, ProxyList, RoleList, TargetKind, TargetList, TokenList, UserList,
};
use crate::redact::redact_text;

/// A tool's typed result and the record of the run that produced it.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolRun<T> {
    /// The compact view.
    pub value: T,
    /// Redacted, capped record of the CLI run.
    pub record: RunRecord,
}

/// Why a tool produced no result. The `Display` text is meant for the LLM caller.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ToolFailure {
    /// The CLI ran past its timeout and was killed.
    #[error("the Teleport command timed out after {}s and was stopped; the cluster may be slow or unreachable", after.as_secs_f64())]
    TimedOut {
        /// The timeout.
        after: Duration,
        /// What was captured.
        record: RunRecord,
    },
    /// The caller cancelled the call; the CLI was killed.
    #[error("the Teleport command was cancelled")]
    Cancelled {
        /// What was captured.
        record: RunRecord,
    },
    /// Teleport refused or failed the command.
    #[error("{error}")]
    Teleport {
        /// Classified error.
        error: TeleportError,
        /// The run.
        record: RunRecord,
    },
    /// The output could not be parsed.
    #[error("{error}")]
    Parse {
        /// What went wrong.
        error: ParseError,
        /// The run.
        record: RunRecord,
    },
    /// The CLI could not be started.
    #[error("could not start the Teleport CLI: {message}")]
    Spawn {
        /// The OS error, with the binary path.
        message: String,
    },
}

impl ToolFailure {
    /// The run record, when the CLI ran at all.
    pub fn record(&self) -> Option<&RunRecord> {
        match self {
            ToolFailure::TimedOut { record, .. }
            | ToolFailure::Cancelled { record }
            | ToolFailure::Teleport { record, .. }
            | ToolFailure::Parse { record, .. } => Some(record),
            ToolFailure::Spawn { .. } => None,
        }
    }
}

/// Runs `args` and maps how the run ended, the same way for every tool: the process could not
/// start, timed out, was cancelled, or exited non-zero (classified from stderr). On a zero exit,
/// the raw output (parsers need it verbatim) and its redacted, capped record.
pub(crate) async fn run_checked(
    runner: &Runner,
    binary: Binary,
    args: &[String],
    scrub: Scrub,
    cancel: &CancellationToken,
) -> Result<(RunOutput, RunRecord), ToolFailure> {
    let output = match runner.run(binary, args, cancel).await {
        Ok(output) => output,
        Err(RunError::Spawn { binary, source }) => {
            return Err(ToolFailure::Spawn { message: redact_text(&format!("{binary}: {source}")) });
        }
        Err(RunError::TimedOut { after, output }) => {
            return Err(ToolFailure::TimedOut { after, record: RunRecord::scrubbed(&output, scrub) });
        }
        Err(RunError::Cancelled { output }) => {
            return Err(ToolFailure::Cancelled { record: RunRecord::scrubbed(&output, scrub) });
        }
    };
    let record = RunRecord::scrubbed(&output, scrub);
    match classify(&output) {
        Some(error) => Err(ToolFailure::Teleport { error, record }),
        None => Ok((output, record)),
    }
}

async fn run_tool<M, V>(
    runner: &Runner,
    cancel: &CancellationToken,
    command: CliCommand,
    scrub: Scrub,
    parse: fn(&str) -> Result<M, ParseError>,
    view: impl FnOnce(&M) -> V,
) -> Result<ToolRun<V>, ToolFailure> {
    let (output, record) = run_checked(runner, command.binary, &command.to_args(), scrub, cancel).await?;
    match parse(&output.stdout) {
        Ok(model) => Ok(ToolRun { value: view(&model), record }),
        Err(error) if output.stdout_truncated => {
            let detail = format!(
                "the output was cut at the runner's size limit ({} bytes), so it is incomplete ({error})",
                output.stdout.len()
            );
            Err(ToolFailure::Parse { error: ParseError::malformed(command, detail), record })
        }
        Err(error) => Err(ToolFailure::Parse { error, record }),
    }
}

/// `list_nodes`: `tctl get nodes --format=json`.
pub async fn list_nodes(
    r: &Runner,
    cancel: &CancellationToken,
    now: DateTime<Utc>,
) -> Result<ToolRun<NodeList>, ToolFailure> {
    run_tool(r, cancel, commands::GET_NODES, Scrub::Plain, parse::parse_nodes, |m| NodeList::build(m, now)).await
}

/// `list_proxies`: `tctl get proxies --format=json`.
pub async fn list_proxies(
    r: &Runner,
    cancel: &CancellationToken,
    now: DateTime<Utc>,
) -> Result<ToolRun<ProxyList>, ToolFailure> {
    run_tool(r, cancel, commands::GET_PROXIES, Scrub::Plain, parse::parse_proxies, |m| ProxyList::build(m, now)).await
}

/// `list_roles`: `tctl get roles --format=json`.
pub async fn list_roles(
    r: &Runner,
    cancel: &CancellationToken,
    _now: DateTime<Utc>,
) -> Result<ToolRun<RoleList>, ToolFailure> {
    run_tool(r, cancel, commands::GET_ROLES, Scrub::Plain, parse::parse_roles, |m| RoleList::build(m)).await
}

/// `list_users`: `tctl get users --format=json`.
pub async fn list_users(
    r: &Runner,
    cancel: &CancellationToken,
    now: DateTime<Utc>,
) -> Result<ToolRun<UserList>, ToolFailure> {
    run_tool(r, cancel, commands::GET_USERS, Scrub::Plain, parse::parse_users, |m| UserList::build(m, now)).await
}

/// `list_tokens`: `tctl tokens ls --format=json`. Secret token names are masked in the view and
/// in the record's stdout/stderr.
pub async fn list_tokens(
    r: &Runner,
    cancel: &CancellationToken,
    now: DateTime<Utc>,
) -> Result<ToolRun<TokenList>, ToolFailure> {
    run_tool(r, cancel, commands::LIST_TOKENS, Scrub::Tokens, parse::parse_tokens, |m| TokenList::build(m, now)).await
}

/// `list_cas`: `tctl get cert_authorities --format=json`. Key material is dropped from the view
/// and from the record's stdout.
pub async fn list_cas(
    r: &Runner,
    cancel: &CancellationToken,
    now: DateTime<Utc>,
) -> Result<ToolRun<CaList>, ToolFailure> {
    let scrub = Scrub::CertAuthorities;
    run_tool(r, cancel, commands::GET_CERT_AUTHORITIES, scrub, parse::parse_cert_authorities, |m| CaList::build(m, now))
        .await
}

/// `get_auth_preference`: `tctl get cluster_auth_preference --format=json`.
pub async fn get_auth_preference(
    r: &Runner,
    cancel: &CancellationToken,
    _now: DateTime<Utc>,
) -> Result<ToolRun<AuthPreferenceView>, ToolFailure> {
    let command = commands::GET_AUTH_PREFERENCE;
    run_tool(r, cancel, command, Scrub::Plain, parse::parse_auth_preference, AuthPreferenceView::build).await
}

/// `list_databases`: `tctl get db_server --format=json`, one row per database. Database URIs may
/// carry credentials: the view redacts them, and so does the record (as every record).
pub async fn list_databases(
    r: &Runner,
    cancel: &CancellationToken,
    _now: DateTime<Utc>,
) -> Result<ToolRun<TargetList>, ToolFailure> {
    let view = |m: &Vec<_>| TargetList::from_servers(TargetKind::Database, m);
    run_tool(r, cancel, commands::GET_DB_SERVERS, Scrub::Plain, parse::parse_db_servers, view).await
}

/// `list_apps`: `tctl get app_server --format=json`, MCP servers left out.
pub async fn list_apps(
    r: &Runner,
    cancel: &CancellationToken,
    _now: DateTime<Utc>,
) -> Result<ToolRun<TargetList>, ToolFailure> {
    let view = |m: &Vec<_>| TargetList::from_servers(TargetKind::App, m);
    run_tool(r, cancel, commands::GET_APP_SERVERS, Scrub::Plain, parse::parse_app_servers, view).await
}

/// `list_mcp_servers`: `tctl get app_server --format=json`, MCP servers only.
pub async fn list_mcp_servers(
    r: &Runner,
    cancel: &CancellationToken,
    _now: DateTime<Utc>,
) -> Result<ToolRun<TargetList>, ToolFailure> {
    let view = |m: &Vec<_>| TargetList::from_servers(TargetKind::McpServer, m);
    run_tool(r, cancel, commands::GET_APP_SERVERS, Scrub::Plain, parse::parse_app_servers, view).await
}

/// `list_kube_clusters`: `tctl get kube_server --format=json`.
pub async fn list_kube_clusters(
    r: &Runner,
    cancel: &CancellationToken,
    _now: DateTime<Utc>,
) -> Result<ToolRun<TargetList>, ToolFailure> {
    let view = |m: &Vec<_>| TargetList::from_servers(TargetKind::Kube, m);
    run_tool(r, cancel, commands::GET_KUBE_SERVERS, Scrub::Plain, parse::parse_kube_servers, view).await
}

/// `list_windows_desktops`: `tctl get windows_desktop --format=json`.
pub async fn list_windows_desktops(
    r: &Runner,
    cancel: &CancellationToken,
    _now: DateTime<Utc>,
) -> Result<ToolRun<TargetList>, ToolFailure> {
    let view = |m: &Vec<_>| TargetList::from_desktops(m);
    run_tool(r, cancel, commands::GET_WINDOWS_DESKTOPS, Scrub::Plain, parse::parse_windows_desktops, view).await
}
