//! Tool arguments: one typed struct per tool (its input schema), parsed strictly, then checked
//! against domain rules. Every error names the argument and what is wrong with it.

use chrono::{DateTime, Utc};
use mtcp_shared::domain::{
    LeaseKind, LeaseTarget, OpId, RequestId, RequestedResource, ToolSpec, escaped, parse_listen_addr, quoted,
};
use rmcp::model::JsonObject;
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

#[cfg(test)]
mod props;
mod record;

pub use record::recorded_inputs;

/// Longest accepted `reason`.
pub const MAX_REASON: usize = 1024;
/// Longest accepted `ticket`.
pub const MAX_TICKET: usize = 128;

/// Arguments of `get_operation`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetOperationArgs {
    /// The op_id a previous call returned (a UUID).
    pub op_id: String,
}

/// Arguments of `check_policy`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckPolicyArgs {
    /// The tool you are thinking of calling, e.g. `list_nodes`.
    pub tool: String,
    /// The arguments you would pass (checked too, nothing runs).
    #[serde(default)]
    pub arguments: Option<JsonObject>,
}

/// Arguments of `search_operations`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchOperationsArgs {
    /// Only operations of this actor.
    #[serde(default)]
    pub actor: Option<String>,
    /// Only this capability, e.g. `inventory.nodes` or `auth.authenticate` (refused authentications).
    #[serde(default)]
    pub capability: Option<String>,
    /// Only this status: denied, queued, running, succeeded, failed, timed_out, cancelled.
    #[serde(default)]
    pub status: Option<String>,
    /// Only operations created at or after this time (RFC 3339).
    #[serde(default)]
    pub since: Option<DateTime<Utc>>,
    /// At most this many, newest first (1-500, default 50).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// Arguments of `run_tsh_command` / `run_tctl_command`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PassthroughArgs {
    /// Arguments after the binary name, e.g. ["get", "nodes", "--format=json"]. Identity, proxy,
    /// TLS and login options, and commands that write local files, are refused.
    pub args: Vec<String>,
    /// Why you run it (recorded with the operation).
    pub reason: String,
    /// Change ticket, when your role requires one.
    #[serde(default)]
    pub ticket: Option<String>,
}

/// Arguments of `search_audit` and `detect_audit_anomalies`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditWindowArgs {
    /// How far back to look, in hours (1-720, default 24).
    #[serde(default)]
    pub hours: Option<u32>,
}

/// Arguments of `list_access_requests`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListRequestsArgs {
    /// At most this many, newest first (1-100, default 10).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// Arguments of `show_access_request`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestIdArgs {
    /// The access request id (a UUID).
    pub request_id: String,
}

/// Arguments of `create_access_request`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRequestArgs {
    /// Role names (e.g. `db-admin`) and/or resource ids, 1-20 entries: `/<cluster>/<kind>/<name>`
    /// (e.g. `/teleport.example.com/node/web-01`); Kubernetes resources as
    /// `/<cluster>/kube:ns:<plural>[.<group>]/<kube_cluster>/<namespace>/<name>` (e.g.
    /// `/teleport.example.com/kube:ns:pods/prod/default/api-0`) or
    /// `/<cluster>/kube:cw:<plural>[.<group>]/<kube_cluster>/<name>` (cluster-wide, e.g. `kube:cw:namespaces`).
    pub resources: Vec<String>,
    /// Why you need the access (recorded, and written into the Teleport request).
    pub reason: String,
    /// Change ticket, when your role requires one.
    #[serde(default)]
    pub ticket: Option<String>,
}

/// Arguments of `review_access_request`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequestArgs {
    /// The access request id (a UUID).
    pub request_id: String,
    /// true approves, false denies.
    #[allow(dead_code)] // read by the worker from the job's arguments
    pub approve: bool,
    /// Why (recorded, and sent to Teleport with the review).
    pub reason: String,
    /// Change ticket, when your role requires one.
    #[serde(default)]
    pub ticket: Option<String>,
}

/// Arguments of `drop_access_request`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DropRequestArgs {
    /// The access request id (a UUID).
    pub request_id: String,
    /// Why you withdraw it (every change needs a reason).
    pub reason: String,
    /// Change ticket, when your role requires one.
    #[serde(default)]
    pub ticket: Option<String>,
    /// Also revoke access already in use: lock everything granted through the request
    /// (`tctl lock --access-request`). Deleting a request alone leaves certificates issued with it
    /// working until they expire.
    #[serde(default)]
    pub revoke: Option<RevokeArgs>,
}

/// The lock `drop_access_request` places when asked to revoke access in use.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeArgs {
    /// Why the access is revoked; Teleport shows it to the locked-out user.
    pub reason: String,
    /// How long the lock lasts, in seconds (at most 30 days). Default: until the request's access
    /// would have expired.
    #[serde(default)]
    pub ttl_seconds: Option<u64>,
}

/// Longest lock `drop_access_request` places: 30 days.
pub const MAX_LOCK_TTL_SECONDS: u64 = 30 * 24 * 3600;

/// Arguments of `start_proxy`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StartProxyArgs {
    /// What to start: proxy_db, proxy_app, proxy_mcp, proxy_kube, proxy_ssh or vnet.
    pub kind: LeaseKind,
    /// What it proxies to, per kind: proxy_db {"db", "db_user"?, "db_name"?}; proxy_app and
    /// proxy_mcp {"app"}; proxy_kube {"kube_cluster"} (required); proxy_ssh {"host": "[login@]host[:port]"};
    /// vnet: none.
    #[serde(default)]
    pub target: Option<Value>,
    /// Loopback address to listen on, e.g. 127.0.0.1:0 (any free port, the default). Not for vnet.
    #[serde(default)]
    pub listen_addr: Option<String>,
    /// Lifetime in seconds; defaults to, and may not exceed, your role's maximum.
    #[serde(default)]
    pub ttl_seconds: Option<u64>,
    /// Why you need the proxy (recorded with the operation).
    pub reason: String,
    /// Change ticket, when your role requires one.
    #[serde(default)]
    pub ticket: Option<String>,
}

/// Arguments of `get_proxy_status`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LeaseIdArgs {
    /// The lease id start_proxy returned (a UUID).
    pub lease_id: String,
}

/// Arguments of `stop_proxy`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StopProxyArgs {
    /// The lease id start_proxy returned (a UUID).
    pub lease_id: String,
    /// Why you stop it (optional; recorded).
    #[serde(default)]
    pub reason: Option<String>,
}

/// Arguments of `get_proxy_logs`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProxyLogsArgs {
    /// The lease id start_proxy returned (a UUID).
    pub lease_id: String,
    /// How many of the last lines (1-1000, default 200).
    #[serde(default)]
    pub tail: Option<u32>,
}

/// Arguments of `list_proxies_leases`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListLeasesArgs {
    /// Only live leases (starting, active, stopping); default true.
    #[serde(default)]
    pub active_only: Option<bool>,
}

/// Longest TTL anyone may ask for, whatever the policy says.
pub const MAX_TTL_SECONDS: u64 = 7 * 24 * 3600;

/// Parse a lease id argument.
pub fn lease_id(s: &str) -> Result<uuid::Uuid, String> {
    uuid::Uuid::parse_str(s)
        .map_err(|_| format!("`lease_id`: {} is not a lease id (a UUID as returned by start_proxy)", quoted(s, ECHO)))
}

/// Arguments after validation: the normalized value and the audit fields.
#[derive(Debug)]
pub struct Validated {
    pub args: Value,
    pub reason: Option<String>,
    pub ticket: Option<String>,
}

/// A mutating call's arguments with its reason and ticket checked.
fn audited(args: JsonObject, reason: String, ticket: Option<String>) -> Result<Validated, String> {
    text_field("reason", &reason, MAX_REASON)?;
    if let Some(t) = &ticket {
        text_field("ticket", t, MAX_TICKET)?;
        ticket_chars(t)?;
    }
    Ok(Validated { args: Value::Object(args), reason: Some(reason), ticket })
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
            mtcp_shared::domain::quoted(t, 40)
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
fn parse<T: DeserializeOwned>(args: &JsonObject) -> Result<T, String> {
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
    if let Some(c) = mtcp_shared::domain::unprintable(value, mtcp_shared::domain::TextKind::Free) {
        return Err(format!(
            "`{name}` contains {}, a control, bidirectional, invisible or separator character",
            mtcp_shared::domain::escaped(&c.to_string(), 16)
        ));
    }
    Ok(())
}

/// Replace `request_id` with its canonical form (lower-case hyphenated UUID): every check of whose
/// request it is compares that form, so `urn:uuid:`, braces, upper case or no hyphens cannot slip a
/// self-review past the guard, and Teleport gets the id as it prints it.
fn canonical_request_id(args: &mut JsonObject, raw: &str) -> Result<(), String> {
    let id = RequestId::parse(raw).map_err(|e| format!("`request_id`: {e}"))?;
    args.insert("request_id".to_owned(), Value::from(id.as_str()));
    Ok(())
}

/// Check `args` against `spec`'s contract.
pub fn validate(spec: &ToolSpec, args: JsonObject) -> Result<Validated, String> {
    let plain = |args: JsonObject| Validated { args: Value::Object(args), reason: None, ticket: None };
    match spec.name {
        "get_operation" => {
            let a: GetOperationArgs = parse(&args)?;
            a.op_id.parse::<OpId>().map_err(|e| format!("`op_id`: {e}"))?;
            Ok(plain(args))
        }
        "check_policy" => {
            let a: CheckPolicyArgs = parse(&args)?;
            text_field("tool", &a.tool, 128)?;
            Ok(plain(args))
        }
        "search_operations" => {
            let a: SearchOperationsArgs = parse(&args)?;
            if let Some(status) = &a.status
                && mtcp_shared::domain::OperationStatus::parse(status).is_none()
            {
                return Err(format!(
                    "`status`: {} is not one of denied, queued, running, succeeded, failed, timed_out, cancelled",
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
                && cap.parse::<mtcp_shared::domain::Capability>().is_err()
            {
                return Err(format!(
                    "`capability`: {} is not a capability (e.g. inventory.nodes, auth.authenticate)",
                    quoted(cap, ECHO)
                ));
            }
            Ok(plain(args))
        }
        "search_audit" | "detect_audit_anomalies" => {
            let a: AuditWindowArgs = parse(&args)?;
            if a.hours.is_some_and(|h| h == 0 || h > 720) {
                return Err("`hours` must be between 1 and 720".into());
            }
            Ok(plain(args))
        }
        "list_access_requests" => {
            let a: ListRequestsArgs = parse(&args)?;
            if a.limit.is_some_and(|l| l == 0 || l > 100) {
                return Err("`limit` must be between 1 and 100".into());
            }
            Ok(plain(args))
        }
        "show_access_request" => {
            let a: RequestIdArgs = parse(&args)?;
            let mut args = args;
            canonical_request_id(&mut args, &a.request_id)?;
            Ok(plain(args))
        }
        "create_access_request" => {
            let a: CreateRequestArgs = parse(&args)?;
            if a.resources.is_empty() || a.resources.len() > 20 {
                return Err("`resources` must list 1 to 20 roles or resource ids".into());
            }
            for (i, r) in a.resources.iter().enumerate() {
                RequestedResource::parse(r).map_err(|e| format!("`resources[{i}]`: {e}"))?;
            }
            audited(args, a.reason, a.ticket)
        }
        "review_access_request" => {
            let a: ReviewRequestArgs = parse(&args)?;
            let mut args = args;
            canonical_request_id(&mut args, &a.request_id)?;
            audited(args, a.reason, a.ticket)
        }
        "drop_access_request" => {
            let a: DropRequestArgs = parse(&args)?;
            let mut args = args;
            canonical_request_id(&mut args, &a.request_id)?;
            if let Some(revoke) = &a.revoke {
                // It becomes the lock's message, which Teleport shows to locked-out users.
                text_field("revoke.reason", &revoke.reason, MAX_REASON)?;
                if revoke.ttl_seconds.is_some_and(|t| t == 0 || t > MAX_LOCK_TTL_SECONDS) {
                    return Err(format!("`revoke.ttl_seconds` must be between 1 and {MAX_LOCK_TTL_SECONDS}"));
                }
            }
            audited(args, a.reason, a.ticket)
        }
        "start_proxy" => {
            let a: StartProxyArgs = parse(&args)?;
            LeaseTarget::parse(a.kind, a.target.as_ref()).map_err(|e| e.to_string())?;
            if let Some(addr) = &a.listen_addr {
                if a.kind == LeaseKind::Vnet {
                    return Err("`listen_addr`: vnet has no listen address; leave it out".into());
                }
                parse_listen_addr(addr).map_err(|e| e.to_string())?;
            }
            if a.ttl_seconds.is_some_and(|t| t == 0 || t > MAX_TTL_SECONDS) {
                return Err(format!("`ttl_seconds` must be between 1 and {MAX_TTL_SECONDS}"));
            }
            audited(args, a.reason, a.ticket)
        }
        "get_proxy_status" => {
            let a: LeaseIdArgs = parse(&args)?;
            lease_id(&a.lease_id)?;
            Ok(plain(args))
        }
        "stop_proxy" => {
            let a: StopProxyArgs = parse(&args)?;
            lease_id(&a.lease_id)?;
            if let Some(r) = &a.reason {
                text_field("reason", r, MAX_REASON)?;
            }
            Ok(Validated { reason: a.reason, ..plain(args) })
        }
        "get_proxy_logs" => {
            let a: ProxyLogsArgs = parse(&args)?;
            lease_id(&a.lease_id)?;
            if a.tail.is_some_and(|t| t == 0 || t > 1000) {
                return Err("`tail` must be between 1 and 1000".into());
            }
            Ok(plain(args))
        }
        "list_proxies_leases" => {
            parse::<ListLeasesArgs>(&args)?;
            Ok(plain(args))
        }
        "run_tsh_command" | "run_tctl_command" => {
            let a: PassthroughArgs = parse(&args)?;
            let binary = if spec.name == "run_tsh_command" {
                mtcp_shared::teleport::Binary::Tsh
            } else {
                mtcp_shared::teleport::Binary::Tctl
            };
            mtcp_shared::teleport::passthrough::validate_args(binary, &a.args).map_err(|e| format!("`args`: {e}"))?;
            audited(args, a.reason, a.ticket)
        }
        _ => {
            if let Some(extra) = args.keys().next() {
                return Err(format!("{} takes no arguments, but `{}` was given", spec.name, escaped(extra, ECHO)));
            }
            Ok(plain(args))
        }
    }
}
