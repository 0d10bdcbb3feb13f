//! Validation of a tool's arguments: parsed strictly into the tool's struct, then checked against
//! the domain's rules. Every error names the argument and what is wrong with it; success is the
//! typed [`ToolCall`].

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::args::{
    ApproveArgs, AuditWindowArgs, CheckPolicyArgs, CreateRequestArgs, DenyArgs, DropRequestArgs, GetOperationArgs,
    LeaseIdArgs, ListApprovalsArgs, ListRequestsArgs, NoArgs, PassthroughArgs, ProxyLogsArgs, RequestIdArgs,
    ReviewRequestArgs, SearchOperationsArgs, StartProxyArgs, StopProxyArgs,
};
use super::call::{CheckPolicy, ListAccessRequests, StartProxy, ToolCall};
use crate::domain::{
    LeaseKind, LeaseTarget, OpId, RequestId, RequestedResource, ToolName, ToolSpec, escaped, parse_listen_addr, quoted,
};
use crate::teleport::Binary;

/// Longest accepted `reason`.
pub const MAX_REASON: usize = 1024;
/// Longest accepted `ticket`.
pub const MAX_TICKET: usize = 128;

/// Longest lock `drop_access_request` places: 30 days.
pub const MAX_LOCK_TTL_SECONDS: u64 = 30 * 24 * 3600;

/// Longest TTL anyone may ask for, whatever the policy says.
pub const MAX_TTL_SECONDS: u64 = 7 * 24 * 3600;

/// Parse a lease id argument.
pub fn lease_id(s: &str) -> Result<uuid::Uuid, String> {
    uuid::Uuid::parse_str(s)
        .map_err(|_| format!("`lease_id`: {} is not a lease id (a UUID as returned by start_proxy)", quoted(s, ECHO)))
}

/// A call after validation: the typed call and its audit fields.
#[derive(Debug, Clone)]
pub struct Validated {
    pub call: ToolCall,
    pub reason: Option<String>,
    pub ticket: Option<String>,
    /// The configured cluster it runs on, for a tool that runs on one (set by the gateway, which
    /// reads the `cluster` argument).
    pub cluster: Option<String>,
}

/// A mutating call's arguments with its reason and ticket checked.
fn audited(call: ToolCall, reason: String, ticket: Option<String>) -> Result<Validated, String> {
    text_field("reason", &reason, MAX_REASON)?;
    if let Some(t) = &ticket {
        text_field("ticket", t, MAX_TICKET)?;
        ticket_chars(t)?;
    }
    Ok(Validated { call, reason: Some(reason), ticket, cluster: None })
}

/// A ticket is an identifier (`CHG-1234`, `JIRA:OPS-7`, `INC#42`), whatever the role: letters,
/// digits and `-_.:/#`, starting with a letter or digit. It is written into what Teleport
/// reviewers read, so it must not be able to carry text of its own.
fn ticket_chars(ticket: &str) -> Result<(), String> {
    let t = ticket.trim();
    let ok = t.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && t.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:/#".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`ticket` {} must be an identifier: letters, digits and - _ . : / #, starting with a letter or digit",
            crate::domain::quoted(t, 40)
        ))
    }
}

/// Longest error message echoed back (values in serde's messages can be huge).
const MAX_MESSAGE: usize = 300;
/// Printed characters of a refused value or argument name echoed back, escapes included.
const ECHO: usize = 82;

fn clip(s: String) -> String {
    if s.chars().count() <= MAX_MESSAGE {
        return s;
    }
    let head: String = s.chars().take(MAX_MESSAGE).collect();
    format!("{head}… [cut]")
}

/// Parse into the tool's type; errors name the argument (`since`, `resources[2]`).
fn parse<T: DeserializeOwned>(args: &Map<String, Value>) -> Result<T, String> {
    serde_path_to_error::deserialize(Value::Object(args.clone())).map_err(|e| {
        // The path holds the caller's key names, which can be as long as they like.
        let path = escaped(&e.path().to_string(), ECHO);
        let inner = clip(e.into_inner().to_string());
        if path == "." { inner } else { format!("`{path}`: {inner}") }
    })
}

fn text_field(name: &str, value: &str, max: usize) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err(format!("`{name}` must not be empty"));
    }
    if value.chars().count() > max {
        return Err(format!("`{name}` is longer than {max} characters"));
    }
    if let Some(c) = crate::domain::unprintable(value, crate::domain::TextKind::Free) {
        return Err(format!(
            "`{name}` contains {}, a control, bidirectional, invisible or separator character",
            crate::domain::escaped(&c.to_string(), 16)
        ));
    }
    Ok(())
}

/// The canonical form (lower-case hyphenated UUID) of a `request_id`: every check of whose request
/// it is compares that form, so `urn:uuid:`, braces, upper case or no hyphens cannot slip a
/// self-review past the guard, and Teleport gets the id as it prints it.
fn canonical_request_id(raw: &str) -> Result<String, String> {
    let id = RequestId::parse(raw).map_err(|e| format!("`request_id`: {e}"))?;
    Ok(id.as_str().to_owned())
}

/// Check `args` against `spec`'s contract; the typed call on success.
pub fn validate(spec: &ToolSpec, args: Map<String, Value>) -> Result<Validated, String> {
    use ToolCall as C;
    let plain = |call: ToolCall| Validated { call, reason: None, ticket: None, cluster: None };
    let no_args = |args: &Map<String, Value>| match args.keys().next() {
        Some(extra) => Err(format!("{} takes no arguments, but `{}` was given", spec.name, escaped(extra, ECHO))),
        None => Ok(NoArgs {}),
    };
    match spec.tool {
        ToolName::ListPendingApprovals => {
            let a: ListApprovalsArgs = parse(&args)?;
            if a.limit.is_some_and(|l| l == 0 || l > 200) {
                return Err("`limit` must be between 1 and 200".into());
            }
            Ok(plain(C::ListPendingApprovals(a)))
        }
        ToolName::ApproveOperation => {
            let mut a: ApproveArgs = parse(&args)?;
            a.op_id.parse::<OpId>().map_err(|e| format!("`op_id`: {e}"))?;
            a.args_sha256 = a.args_sha256.trim().to_ascii_lowercase();
            if a.args_sha256.len() != 64 || !a.args_sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err("`args_sha256` must be the 64 hex digits list_pending_approvals showed".into());
            }
            let reason = a.reason.clone();
            audited(C::ApproveOperation(a), reason, None)
        }
        ToolName::DenyOperation => {
            let a: DenyArgs = parse(&args)?;
            a.op_id.parse::<OpId>().map_err(|e| format!("`op_id`: {e}"))?;
            let reason = a.reason.clone();
            audited(C::DenyOperation(a), reason, None)
        }
        ToolName::GetOperation => {
            let a: GetOperationArgs = parse(&args)?;
            a.op_id.parse::<OpId>().map_err(|e| format!("`op_id`: {e}"))?;
            Ok(plain(C::GetOperation(a)))
        }
        ToolName::CheckPolicy => {
            let a: CheckPolicyArgs = parse(&args)?;
            text_field("tool", &a.tool, 128)?;
            Ok(plain(C::CheckPolicy(CheckPolicy { args: a, verdict: None, for_approval: None })))
        }
        ToolName::SearchOperations => {
            let a: SearchOperationsArgs = parse(&args)?;
            search_operations(&a)?;
            Ok(plain(C::SearchOperations(a)))
        }
        ToolName::SearchAudit => Ok(plain(C::SearchAudit(audit_window(&args)?))),
        ToolName::DetectAuditAnomalies => Ok(plain(C::DetectAuditAnomalies(audit_window(&args)?))),
        ToolName::ListAccessRequests => {
            let a: ListRequestsArgs = parse(&args)?;
            if a.limit.is_some_and(|l| l == 0 || l > 100) {
                return Err("`limit` must be between 1 and 100".into());
            }
            Ok(plain(C::ListAccessRequests(ListAccessRequests { args: a, own_request_ids: None })))
        }
        ToolName::ShowAccessRequest => {
            let mut a: RequestIdArgs = parse(&args)?;
            a.request_id = canonical_request_id(&a.request_id)?;
            Ok(plain(C::ShowAccessRequest(a)))
        }
        ToolName::CreateAccessRequest => {
            let a: CreateRequestArgs = parse(&args)?;
            if a.resources.is_empty() || a.resources.len() > 20 {
                return Err("`resources` must list 1 to 20 roles or resource ids".into());
            }
            for (i, r) in a.resources.iter().enumerate() {
                RequestedResource::parse(r).map_err(|e| format!("`resources[{i}]`: {e}"))?;
            }
            let (reason, ticket) = (a.reason.clone(), a.ticket.clone());
            audited(C::CreateAccessRequest(a), reason, ticket)
        }
        ToolName::ReviewAccessRequest => {
            let mut a: ReviewRequestArgs = parse(&args)?;
            a.request_id = canonical_request_id(&a.request_id)?;
            let (reason, ticket) = (a.reason.clone(), a.ticket.clone());
            audited(C::ReviewAccessRequest(a), reason, ticket)
        }
        ToolName::DropAccessRequest => {
            let mut a: DropRequestArgs = parse(&args)?;
            a.request_id = canonical_request_id(&a.request_id)?;
            if let Some(revoke) = &a.revoke {
                // It becomes the lock's message, which Teleport shows to locked-out users.
                text_field("revoke.reason", &revoke.reason, MAX_REASON)?;
                if revoke.ttl_seconds.is_some_and(|t| t == 0 || t > MAX_LOCK_TTL_SECONDS) {
                    return Err(format!("`revoke.ttl_seconds` must be between 1 and {MAX_LOCK_TTL_SECONDS}"));
                }
            }
            let (reason, ticket) = (a.reason.clone(), a.ticket.clone());
            audited(C::DropAccessRequest(a), reason, ticket)
        }
        ToolName::StartProxy => {
            let a: StartProxyArgs = parse(&args)?;
            LeaseTarget::parse(a.kind, a.target.as_ref()).map_err(|e| e.to_string())?;
            if let Some(addr) = &a.listen_addr {
                if a.kind == LeaseKind::Vnet {
                    return Err("`listen_addr`: vnet has no listen address; leave it out".into());
                }
                parse_listen_addr(addr).map_err(|e| e.to_string())?;
            }
            if let Some(edge) = &a.edge_agent {
                crate::edge::check_name(edge).map_err(|e| format!("`edge_agent`: {e}"))?;
                if !crate::edge::EDGE_KINDS.contains(&a.kind) {
                    return Err(format!(
                        "`edge_agent`: {} cannot run on an edge agent (proxy_db, proxy_app, proxy_mcp and proxy_kube can)",
                        a.kind
                    ));
                }
            }
            if a.ttl_seconds.is_some_and(|t| t == 0 || t > MAX_TTL_SECONDS) {
                return Err(format!("`ttl_seconds` must be between 1 and {MAX_TTL_SECONDS}"));
            }
            let (reason, ticket) = (a.reason.clone(), a.ticket.clone());
            // The lease's id is the call's from here on: the job and the lease row carry it.
            audited(C::StartProxy(StartProxy { args: a, lease_id: uuid::Uuid::now_v7() }), reason, ticket)
        }
        ToolName::GetProxyStatus => {
            let a: LeaseIdArgs = parse(&args)?;
            lease_id(&a.lease_id)?;
            Ok(plain(C::GetProxyStatus(a)))
        }
        ToolName::StopProxy => {
            let a: StopProxyArgs = parse(&args)?;
            lease_id(&a.lease_id)?;
            if let Some(r) = &a.reason {
                text_field("reason", r, MAX_REASON)?;
            }
            Ok(Validated { reason: a.reason.clone(), ..plain(C::StopProxy(a)) })
        }
        ToolName::GetProxyLogs => {
            let a: ProxyLogsArgs = parse(&args)?;
            lease_id(&a.lease_id)?;
            if a.tail.is_some_and(|t| t == 0 || t > 1000) {
                return Err("`tail` must be between 1 and 1000".into());
            }
            Ok(plain(C::GetProxyLogs(a)))
        }
        ToolName::ListProxiesLeases => Ok(plain(C::ListProxiesLeases(parse(&args)?))),
        ToolName::RunTshCommand => {
            let a = passthrough(Binary::Tsh, &args)?;
            let (reason, ticket) = (a.reason.clone(), a.ticket.clone());
            audited(C::RunTshCommand(a), reason, ticket)
        }
        ToolName::RunTctlCommand => {
            let a = passthrough(Binary::Tctl, &args)?;
            let (reason, ticket) = (a.reason.clone(), a.ticket.clone());
            audited(C::RunTctlCommand(a), reason, ticket)
        }
        ToolName::GetAuthPreference => Ok(plain(C::GetAuthPreference(no_args(&args)?))),
        ToolName::ListCas => Ok(plain(C::ListCas(no_args(&args)?))),
        ToolName::ListClusters => Ok(plain(C::ListClusters(no_args(&args)?))),
        ToolName::ListEdgeAgents => Ok(plain(C::ListEdgeAgents(no_args(&args)?))),
        ToolName::ListNodes => Ok(plain(C::ListNodes(no_args(&args)?))),
        ToolName::ListProxies => Ok(plain(C::ListProxies(no_args(&args)?))),
        ToolName::ListDatabases => Ok(plain(C::ListDatabases(no_args(&args)?))),
        ToolName::ListApps => Ok(plain(C::ListApps(no_args(&args)?))),
        ToolName::ListMcpServers => Ok(plain(C::ListMcpServers(no_args(&args)?))),
        ToolName::ListKubeClusters => Ok(plain(C::ListKubeClusters(no_args(&args)?))),
        ToolName::ListWindowsDesktops => Ok(plain(C::ListWindowsDesktops(no_args(&args)?))),
        ToolName::ListRoles => Ok(plain(C::ListRoles(no_args(&args)?))),
        ToolName::ListTokens => Ok(plain(C::ListTokens(no_args(&args)?))),
        ToolName::ListUsers => Ok(plain(C::ListUsers(no_args(&args)?))),
        ToolName::RunHealthCheck => Ok(plain(C::RunHealthCheck(no_args(&args)?))),
        ToolName::ScanRbac => Ok(plain(C::ScanRbac(no_args(&args)?))),
        ToolName::Whoami => Ok(plain(C::Whoami(no_args(&args)?))),
    }
}

fn search_operations(a: &SearchOperationsArgs) -> Result<(), String> {
    if let Some(status) = &a.status
        && crate::domain::OperationStatus::parse(status).is_none()
    {
        return Err(format!(
            "`status`: {} is not one of denied, awaiting_approval, queued, running, succeeded, failed, timed_out, cancelled, expired",
            quoted(status, ECHO)
        ));
    }
    if a.limit.is_some_and(|l| l == 0 || l > 500) {
        return Err("`limit` must be between 1 and 500".into());
    }
    if let Some(actor) = &a.actor {
        text_field("actor", actor, 256)?;
    }
    if let Some(cap) = &a.capability
        && cap != "auth.authenticate"
        && cap.parse::<crate::domain::Capability>().is_err()
    {
        return Err(format!(
            "`capability`: {} is not a capability (e.g. inventory.nodes, auth.authenticate)",
            quoted(cap, ECHO)
        ));
    }
    if let Some(tool) = &a.tool
        && crate::domain::find_tool(tool).is_none()
    {
        return Err(format!(
            "`tool`: {} is not a tool name (e.g. list_nodes, start_proxy; tools/list has them all)",
            quoted(tool, ECHO)
        ));
    }
    if let (Some(since), Some(until)) = (a.since, a.until)
        && until <= since
    {
        return Err(format!(
            "`until` ({}) must be later than `since` ({}): no operation can match",
            until.to_rfc3339(),
            since.to_rfc3339()
        ));
    }
    Ok(())
}

fn audit_window(args: &Map<String, Value>) -> Result<AuditWindowArgs, String> {
    let a: AuditWindowArgs = parse(args)?;
    if a.hours.is_some_and(|h| h == 0 || h > 720) {
        return Err("`hours` must be between 1 and 720".into());
    }
    Ok(a)
}

fn passthrough(binary: Binary, args: &Map<String, Value>) -> Result<PassthroughArgs, String> {
    let a: PassthroughArgs = parse(args)?;
    crate::teleport::passthrough::validate_args(binary, &a.args).map_err(|e| format!("`args`: {e}"))?;
    Ok(a)
}
