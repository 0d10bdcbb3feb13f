//! Parsers from raw `tctl`/`tsh` stdout to models: one function per command. They accept JSON
//! arrays, a single object, `[]`/`null`/empty output, and YAML multi-document output; they never
//! panic and every error names the command.

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::commands::{self, CliCommand};
use super::models::{
    AccessRequest, AppServer, AuditEvent, AuthPreference, CertAuthority, ClusterStatus, DatabaseServer, KubeServer,
    McpApp, ProvisionToken, Role, Server, User, WindowsDesktop,
};

/// Output that does not have the expected shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Not valid JSON/YAML, or the wrong types.
    // The parser's detail may quote the output (cluster text): shown in a marked section.
    #[error(
        "could not parse the output of \"{command}\"; the parser said:{}",
        crate::tools::untrusted::text_section(detail)
    )]
    Malformed {
        /// The command whose output it was.
        command: String,
        /// What went wrong, with line and column where known.
        detail: String,
    },
    /// Valid but without the one resource the command must print.
    #[error("could not parse the output of \"{command}\": expected {expected}, found nothing")]
    Missing {
        /// The command whose output it was.
        command: String,
        /// What was expected.
        expected: String,
    },
}

impl ParseError {
    /// The command whose output failed to parse.
    pub fn command(&self) -> &str {
        match self {
            ParseError::Malformed { command, .. } | ParseError::Missing { command, .. } => command,
        }
    }

    pub(crate) fn malformed(command: impl ToString, detail: impl ToString) -> ParseError {
        ParseError::Malformed { command: command.to_string(), detail: detail.to_string() }
    }
}

/// Parses a list of resources of any kind from JSON (array, object, concatenated objects) or YAML
/// (one or more documents, each a resource or a list). Empty, `[]` and `null` give an empty list.
pub fn parse_resources<T: DeserializeOwned>(command: &str, text: &str) -> Result<Vec<T>, ParseError> {
    let text = text.trim_start_matches('\u{feff}');
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed == "null" {
        return Ok(Vec::new());
    }
    if trimmed.starts_with('[') {
        let items: Vec<Option<T>> = serde_json::from_str(text).map_err(|e| ParseError::malformed(command, e))?;
        return Ok(items.into_iter().flatten().collect());
    }
    if trimmed.starts_with('{') {
        return serde_json::Deserializer::from_str(text)
            .into_iter::<T>()
            .collect::<Result<Vec<T>, _>>()
            .map_err(|e| ParseError::malformed(command, e));
    }
    parse_yaml_documents(command, text)
}

fn parse_yaml_documents<T: DeserializeOwned>(command: &str, text: &str) -> Result<Vec<T>, ParseError> {
    let mut out = Vec::new();
    for (index, document) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let doc_err =
            |e: serde_yaml::Error| ParseError::malformed(command, format!("YAML document {}: {e}", index + 1));
        let value = serde_yaml::Value::deserialize(document).map_err(doc_err)?;
        let items = match value {
            serde_yaml::Value::Null => continue,
            serde_yaml::Value::Sequence(items) => items,
            other => vec![other],
        };
        for item in items.into_iter().filter(|v| !v.is_null()) {
            out.push(serde_yaml::from_value(item).map_err(doc_err)?);
        }
    }
    Ok(out)
}

fn parse_one<T: DeserializeOwned>(command: &CliCommand, text: &str, expected: &str) -> Result<T, ParseError> {
    parse_resources(&command.to_string(), text)?
        .into_iter()
        .next()
        .ok_or_else(|| ParseError::Missing { command: command.to_string(), expected: expected.to_owned() })
}

/// `tctl get nodes --format=json` (also `tctl nodes ls --format=json`).
pub fn parse_nodes(stdout: &str) -> Result<Vec<Server>, ParseError> {
    parse_resources(&commands::GET_NODES.to_string(), stdout)
}

/// `tctl get proxies --format=json`.
pub fn parse_proxies(stdout: &str) -> Result<Vec<Server>, ParseError> {
    parse_resources(&commands::GET_PROXIES.to_string(), stdout)
}

/// `tctl get roles --format=json` (or YAML, e.g. role files).
pub fn parse_roles(stdout: &str) -> Result<Vec<Role>, ParseError> {
    parse_resources(&commands::GET_ROLES.to_string(), stdout)
}

/// `tctl get users --format=json`.
pub fn parse_users(stdout: &str) -> Result<Vec<User>, ParseError> {
    parse_resources(&commands::GET_USERS.to_string(), stdout)
}

/// `tctl tokens ls --format=json`. The result holds token secrets: mask before showing.
pub fn parse_tokens(stdout: &str) -> Result<Vec<ProvisionToken>, ParseError> {
    parse_resources(&commands::LIST_TOKENS.to_string(), stdout)
}

/// `tctl get cert_authorities --format=json`.
pub fn parse_cert_authorities(stdout: &str) -> Result<Vec<CertAuthority>, ParseError> {
    parse_resources(&commands::GET_CERT_AUTHORITIES.to_string(), stdout)
}

/// `tctl get cluster_auth_preference --format=json` (a one-element array).
pub fn parse_auth_preference(stdout: &str) -> Result<AuthPreference, ParseError> {
    parse_one(&commands::GET_AUTH_PREFERENCE, stdout, "one cluster_auth_preference")
}

/// `tctl status`: the text every release prints, or the JSON object of `--format=json` (19.x and
/// later) when the output starts with `{`.
pub fn parse_cluster_status(stdout: &str) -> Result<ClusterStatus, ParseError> {
    if stdout.trim_start_matches('\u{feff}').trim_start().starts_with('{') {
        return serde_json::from_str(stdout).map_err(|e| ParseError::malformed(commands::STATUS, e));
    }
    super::status_text::parse(stdout)
}

/// `tsh request ls --format=json` (no trailing newline; `null` when empty).
pub fn parse_access_requests(stdout: &str) -> Result<Vec<AccessRequest>, ParseError> {
    parse_resources(&commands::LIST_ACCESS_REQUESTS.to_string(), stdout)
}

/// `tsh request show <ID> --format=json` (one object).
pub fn parse_access_request(stdout: &str) -> Result<AccessRequest, ParseError> {
    parse_one(&commands::SHOW_ACCESS_REQUEST, stdout, "one access request")
}

/// `tctl get db_server --format=json`.
pub fn parse_db_servers(stdout: &str) -> Result<Vec<DatabaseServer>, ParseError> {
    parse_resources(&commands::GET_DB_SERVERS.to_string(), stdout)
}

/// `tctl get app_server --format=json`.
pub fn parse_app_servers(stdout: &str) -> Result<Vec<AppServer>, ParseError> {
    parse_resources(&commands::GET_APP_SERVERS.to_string(), stdout)
}

/// `tctl get kube_server --format=json`.
pub fn parse_kube_servers(stdout: &str) -> Result<Vec<KubeServer>, ParseError> {
    parse_resources(&commands::GET_KUBE_SERVERS.to_string(), stdout)
}

/// `tctl get windows_desktop --format=json`.
pub fn parse_windows_desktops(stdout: &str) -> Result<Vec<WindowsDesktop>, ParseError> {
    parse_resources(&commands::GET_WINDOWS_DESKTOPS.to_string(), stdout)
}

/// `tsh mcp ls --format=json`.
pub fn parse_mcp_apps(stdout: &str) -> Result<Vec<McpApp>, ParseError> {
    parse_resources(&commands::LIST_MCP_SERVERS.to_string(), stdout)
}

/// Audit events: a JSON array, one object, or JSON lines (concatenated objects).
pub fn parse_audit_events(text: &str) -> Result<Vec<AuditEvent>, ParseError> {
    const SOURCE: &str = "audit events";
    let mut out = Vec::new();
    for value in serde_json::Deserializer::from_str(text).into_iter::<serde_json::Value>() {
        let value = value.map_err(|e| ParseError::malformed(SOURCE, e))?;
        let items = match value {
            serde_json::Value::Array(items) => items,
            serde_json::Value::Null => continue,
            other => vec![other],
        };
        for item in items {
            let n = out.len() + 1;
            let event =
                AuditEvent::from_value(item).map_err(|e| ParseError::malformed(SOURCE, format!("event {n}: {e}")))?;
            out.push(event);
        }
    }
    Ok(out)
}
