//! [`ToolCall`]: one validated call of one tool, with typed arguments. It is what the gateway
//! decides on and what a worker runs; on the queue it is the `tool` and `args` of a job.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::args::{
    ApproveArgs, AuditWindowArgs, CheckPolicyArgs, CreateRequestArgs, DenyArgs, DropRequestArgs, GetOperationArgs,
    LeaseIdArgs, ListApprovalsArgs, ListLeasesArgs, ListRequestsArgs, NoArgs, PassthroughArgs, ProxyLogsArgs,
    RequestIdArgs, ReviewRequestArgs, SearchOperationsArgs, StartProxyArgs, StopProxyArgs,
};
use crate::domain::{RequestId, ToolName, ToolSpec};

/// A call of one tool with its validated arguments. Serialized adjacently tagged: `"tool"` is the
/// MCP name and `"args"` the arguments, the shape jobs have always had on the queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "tool", content = "args", rename_all = "snake_case")]
pub enum ToolCall {
    ApproveOperation(ApproveArgs),
    CheckPolicy(CheckPolicy),
    CreateAccessRequest(CreateRequestArgs),
    DenyOperation(DenyArgs),
    DetectAuditAnomalies(AuditWindowArgs),
    DropAccessRequest(DropRequestArgs),
    GetAuthPreference(NoArgs),
    GetOperation(GetOperationArgs),
    GetProxyLogs(ProxyLogsArgs),
    GetProxyStatus(LeaseIdArgs),
    ListAccessRequests(ListAccessRequests),
    ListCas(NoArgs),
    ListClusters(NoArgs),
    ListEdgeAgents(NoArgs),
    ListNodes(NoArgs),
    ListPendingApprovals(ListApprovalsArgs),
    ListProxies(NoArgs),
    ListDatabases(NoArgs),
    ListApps(NoArgs),
    ListMcpServers(NoArgs),
    ListKubeClusters(NoArgs),
    ListWindowsDesktops(NoArgs),
    ListProxiesLeases(ListLeasesArgs),
    ListRoles(NoArgs),
    ListTokens(NoArgs),
    ListUsers(NoArgs),
    ReviewAccessRequest(ReviewRequestArgs),
    RunHealthCheck(NoArgs),
    RunTctlCommand(PassthroughArgs),
    RunTshCommand(PassthroughArgs),
    ScanRbac(NoArgs),
    SearchAudit(AuditWindowArgs),
    SearchOperations(SearchOperationsArgs),
    ShowAccessRequest(RequestIdArgs),
    StartProxy(StartProxy),
    StopProxy(StopProxyArgs),
    Whoami(NoArgs),
}

/// `start_proxy` as decided: the caller's arguments and the id of the lease the call creates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartProxy {
    #[serde(flatten)]
    pub args: StartProxyArgs,
    /// Chosen by the gateway when it validates the call. On the queue under the key earlier
    /// releases wrote (`_lease_id`), so a worker of the previous release still finds it while a
    /// deployment rolls; `lease_id` is read too.
    #[serde(rename = "_lease_id", alias = "lease_id")]
    pub lease_id: Uuid,
}

/// `check_policy` as asked, and, for a question whose answer needs the cluster (the blast radius of
/// an access request), the gateway's verdict the worker completes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckPolicy {
    #[serde(flatten)]
    pub args: CheckPolicyArgs,
    /// The verdict (a `PolicyCheckView`) set by the gateway; the caller never sets it.
    #[serde(default, rename = "_verdict", skip_serializing_if = "Option::is_none")]
    pub verdict: Option<serde_json::Value>,
    /// The waiting access request this previews for its approvers (their webhook hears the result).
    #[serde(default, rename = "_for_approval", skip_serializing_if = "Option::is_none")]
    pub for_approval: Option<Uuid>,
}

/// `list_access_requests` as decided: the caller's arguments and, for a caller limited to its own
/// objects, the requests it created (Teleport sees every request as the control plane's, so the
/// worker filters on these).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListAccessRequests {
    #[serde(flatten)]
    pub args: ListRequestsArgs,
    /// None: every request. On the queue under the key earlier releases wrote
    /// (`_own_request_ids`): a worker of the previous release that missed it would list every
    /// request to a caller limited to its own. `own_request_ids` is read too.
    #[serde(default, rename = "_own_request_ids", alias = "own_request_ids", skip_serializing_if = "Option::is_none")]
    pub own_request_ids: Option<Vec<RequestId>>,
}

impl ToolCall {
    /// Which tool this calls.
    pub fn tool(&self) -> ToolName {
        use ToolName as N;
        match self {
            Self::ApproveOperation(_) => N::ApproveOperation,
            Self::CheckPolicy(_) => N::CheckPolicy,
            Self::DenyOperation(_) => N::DenyOperation,
            Self::CreateAccessRequest(_) => N::CreateAccessRequest,
            Self::DetectAuditAnomalies(_) => N::DetectAuditAnomalies,
            Self::DropAccessRequest(_) => N::DropAccessRequest,
            Self::GetAuthPreference(_) => N::GetAuthPreference,
            Self::GetOperation(_) => N::GetOperation,
            Self::GetProxyLogs(_) => N::GetProxyLogs,
            Self::GetProxyStatus(_) => N::GetProxyStatus,
            Self::ListAccessRequests(_) => N::ListAccessRequests,
            Self::ListCas(_) => N::ListCas,
            Self::ListClusters(_) => N::ListClusters,
            Self::ListEdgeAgents(_) => N::ListEdgeAgents,
            Self::ListNodes(_) => N::ListNodes,
            Self::ListPendingApprovals(_) => N::ListPendingApprovals,
            Self::ListProxies(_) => N::ListProxies,
            Self::ListDatabases(_) => N::ListDatabases,
            Self::ListApps(_) => N::ListApps,
            Self::ListMcpServers(_) => N::ListMcpServers,
            Self::ListKubeClusters(_) => N::ListKubeClusters,
            Self::ListWindowsDesktops(_) => N::ListWindowsDesktops,
            Self::ListProxiesLeases(_) => N::ListProxiesLeases,
            Self::ListRoles(_) => N::ListRoles,
            Self::ListTokens(_) => N::ListTokens,
            Self::ListUsers(_) => N::ListUsers,
            Self::ReviewAccessRequest(_) => N::ReviewAccessRequest,
            Self::RunHealthCheck(_) => N::RunHealthCheck,
            Self::RunTctlCommand(_) => N::RunTctlCommand,
            Self::RunTshCommand(_) => N::RunTshCommand,
            Self::ScanRbac(_) => N::ScanRbac,
            Self::SearchAudit(_) => N::SearchAudit,
            Self::SearchOperations(_) => N::SearchOperations,
            Self::ShowAccessRequest(_) => N::ShowAccessRequest,
            Self::StartProxy(_) => N::StartProxy,
            Self::StopProxy(_) => N::StopProxy,
            Self::Whoami(_) => N::Whoami,
        }
    }

    /// The tool's catalog entry.
    pub fn spec(&self) -> &'static ToolSpec {
        self.tool().spec()
    }

    /// The MCP name of the tool.
    pub fn name(&self) -> &'static str {
        self.tool().as_str()
    }

    /// SHA-256 (hex) of the call as the worker runs it, in canonical JSON (object keys sorted, no
    /// whitespace; the lease id `start_proxy` was given included): what an approval is bound to.
    pub fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        // Through a `Value`, whose maps are ordered by key: the same call always hashes the same.
        let canonical =
            serde_json::to_vec(&serde_json::to_value(self).expect("a call serializes")).expect("a value serializes");
        hex::encode(Sha256::digest(&canonical))
    }

    /// The access request the call names, in canonical form.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::ShowAccessRequest(a) => Some(&a.request_id),
            Self::ReviewAccessRequest(a) => Some(&a.request_id),
            Self::DropAccessRequest(a) => Some(&a.request_id),
            _ => None,
        }
    }

    /// The lease the call names or creates.
    pub fn lease_id(&self) -> Option<String> {
        match self {
            Self::StartProxy(s) => Some(s.lease_id.to_string()),
            Self::GetProxyStatus(a) => Some(a.lease_id.clone()),
            Self::GetProxyLogs(a) => Some(a.lease_id.clone()),
            Self::StopProxy(a) => Some(a.lease_id.clone()),
            _ => None,
        }
    }
}
